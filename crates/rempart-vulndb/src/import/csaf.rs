//! Red Hat's CSAF VEX documents (<https://security.access.redhat.com/data/csaf/v2/vex/>): one
//! JSON document per CVE, in the VEX profile of CSAF 2.0, saying for every Red Hat product and
//! component whether the CVE is fixed (in which package version, by which erratum), affected,
//! not affected or still under investigation. The whole set is the `csaf_vex_YYYY-MM-DD.tar.zst`
//! archive that `archive_latest.txt` names, imported once unpacked into a directory.
//!
//! Red Hat also publishes its errata as OSV records, but those list fixed errata only. A CVE Red
//! Hat will not fix, has deferred, considers out of support scope or is still investigating
//! appears in no erratum, so with OSV data alone an image looks clean where Red Hat itself says
//! the package is affected. Only the VEX documents carry those states: `known_affected` with the
//! remediation that says why no fix comes (`no_fix_planned` "Will not fix" or "Out of support
//! scope", `none_available` "Fix deferred"), `under_investigation`, and `known_not_affected`.
//!
//! What is kept, for Red Hat Enterprise Linux and the Universal Base Images built from it:
//!
//! - Products whose CPE is a main stream, `cpe:/o:redhat:enterprise_linux:9::baseos`,
//!   `cpe:/a:redhat:enterprise_linux:8::appstream` (release `9`, `8`). The extended-support
//!   streams (`rhel_eus`, `rhel_aus`, `rhel_e4s`, `rhel_tus`) are left out: they are pinned
//!   minor releases with their own, older fix versions, and an image does not say whether it
//!   follows one (os-release names the major and minor, not the subscription), so their fixes
//!   would mark main-stream packages fixed that are not. Layered products (Satellite, `JBoss`,
//!   `OpenShift`, Fast Datapath) ship their own builds on top of RHEL and are left out too.
//! - Source packages only: an installed rpm is looked up by its source rpm (with the binary's
//!   epoch), as the catalog records it, and Red Hat fixes a whole source package at once.
//! - Packages of an `AppStream` module stream under `<module>:<stream>/<source rpm>`, so that they
//!   match only packages installed from that stream (the rpm's `MODULARITYLABEL`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use rempart_core::Severity;
use serde::Deserialize;

use super::osv::{cvss_score, distro_severity, normalize_timestamp, title_from};
use crate::ecosystem::module_stream;
use crate::model::{Advisory, AffectedPackage, Event, RangeKind, UnfixedState, VersionRange};
use crate::version::VersionScheme;

/// The ecosystem these advisories are filed under (osv.dev's name for Red Hat's own records).
pub(crate) const ECOSYSTEM: &str = "Red Hat";
/// The source an import of these documents is counted under.
pub(crate) const SOURCE: &str = "redhat-csaf-vex";
/// How deep relationships may nest: a package in a module in a product is two levels; the bound
/// only stops a document whose relationships loop.
const MAX_NESTING: usize = 8;

#[derive(Debug, Deserialize)]
pub(crate) struct CsafDocument {
    document: DocumentMeta,
    #[serde(default)]
    product_tree: ProductTree,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Deserialize)]
struct DocumentMeta {
    #[serde(default)]
    title: Option<String>,
    tracking: Tracking,
    #[serde(default)]
    aggregate_severity: Option<AggregateSeverity>,
    #[serde(default)]
    publisher: Option<Publisher>,
    #[serde(default)]
    notes: Vec<Note>,
}

#[derive(Debug, Deserialize)]
struct Tracking {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    current_release_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AggregateSeverity {
    #[serde(default)]
    text: String,
}

#[derive(Debug, Deserialize)]
struct Publisher {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Debug, Deserialize)]
struct Note {
    #[serde(default)]
    category: String,
    #[serde(default)]
    text: String,
}

#[derive(Debug, Default, Deserialize)]
struct ProductTree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    relationships: Vec<Relationship>,
}

/// A node of the product tree: a vendor, product family, product name, version or architecture.
/// Only the products in it matter here; the categories around them only group them.
#[derive(Debug, Deserialize)]
struct Branch {
    #[serde(default)]
    product: Option<Product>,
    #[serde(default)]
    branches: Vec<Branch>,
}

#[derive(Debug, Deserialize)]
struct Product {
    product_id: String,
    #[serde(default)]
    product_identification_helper: Option<IdentificationHelper>,
}

#[derive(Debug, Deserialize)]
struct IdentificationHelper {
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

/// A component placed in a product: `product_reference` as a component of
/// `relates_to_product_reference`, under the new id `full_product_name.product_id`.
#[derive(Debug, Deserialize)]
struct Relationship {
    category: String,
    full_product_name: FullProductName,
    product_reference: String,
    relates_to_product_reference: String,
}

#[derive(Debug, Deserialize)]
struct FullProductName {
    product_id: String,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    notes: Vec<Note>,
    #[serde(default)]
    product_status: ProductStatus,
    #[serde(default)]
    remediations: Vec<Remediation>,
    #[serde(default)]
    threats: Vec<Threat>,
    #[serde(default)]
    scores: Vec<Score>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Debug, Default, Deserialize)]
struct ProductStatus {
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    under_investigation: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Remediation {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Threat {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Score {
    #[serde(default)]
    cvss_v3: Option<CvssV3>,
    #[serde(default)]
    products: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct CvssV3 {
    #[serde(rename = "vectorString")]
    vector_string: String,
    #[serde(rename = "baseScore", default)]
    base_score: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default)]
    url: String,
}

/// True for a CSAF document of the VEX profile, whoever published it.
pub(crate) fn is_csaf_vex(value: &serde_json::Value) -> bool {
    value
        .get("document")
        .and_then(|document| document.get("category"))
        .and_then(serde_json::Value::as_str)
        == Some("csaf_vex")
}

/// What one document yields.
#[derive(Debug)]
pub(crate) enum Converted {
    /// The CVE's advisory, when it affects a kept package (none when it only concerns other
    /// products, or says every RHEL package is not affected).
    Advisories(Vec<Advisory>),
    /// The CVE was rejected: the document is kept by Red Hat but describes no flaw.
    Withdrawn,
}

/// Turns a Red Hat CSAF VEX document into advisories; `Err` says why the document cannot be read
/// as one (another publisher's VEX, whose product ids and CPEs mean nothing here).
pub(crate) fn convert(document: &CsafDocument) -> Result<Converted, String> {
    if let Some(publisher) = &document.document.publisher
        && !publisher.namespace.contains("redhat.com")
    {
        return Err(format!(
            "a CSAF VEX document from `{}` ({}), not from Red Hat",
            publisher.name, publisher.namespace
        ));
    }
    if withdrawn(document) {
        return Ok(Converted::Withdrawn);
    }
    let tree = Tree::new(&document.product_tree);
    let advisories = document
        .vulnerabilities
        .iter()
        .filter_map(|vulnerability| convert_vulnerability(document, &tree, vulnerability))
        .collect();
    Ok(Converted::Advisories(advisories))
}

/// A rejected CVE: its description is the CVE program's rejection text (`** REJECT **`,
/// `Rejected reason:`), or the tracking status says so. Red Hat deletes most such documents (the
/// archive's `deletions.csv`); one left behind must not report a flaw.
fn withdrawn(document: &CsafDocument) -> bool {
    let status = document
        .document
        .tracking
        .status
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if matches!(status.as_str(), "withdrawn" | "rejected" | "deleted") {
        return true;
    }
    let rejected = |text: &str| {
        let text = text.trim_start().to_ascii_lowercase();
        text.starts_with("** reject **") || text.starts_with("rejected reason:")
    };
    let describing = |note: &&Note| matches!(note.category.as_str(), "description" | "summary");
    document.document.title.as_deref().is_some_and(rejected)
        || document
            .document
            .notes
            .iter()
            .chain(document.vulnerabilities.iter().flat_map(|v| &v.notes))
            .filter(describing)
            .any(|note| rejected(&note.text))
}

/// The product tree, indexed: every product by id, every relationship by the id it creates.
struct Tree<'a> {
    products: HashMap<&'a str, &'a Product>,
    /// Combined id → (component, the product it is a component of).
    relationships: HashMap<&'a str, (&'a str, &'a str)>,
}

/// Where a product id of a status list sits: the RHEL release of the platform at the top, the
/// component at the bottom, and what is between them (a module stream).
struct Placement<'a> {
    release: String,
    component: &'a str,
    wrappers: Vec<&'a str>,
}

impl<'a> Tree<'a> {
    fn new(tree: &'a ProductTree) -> Tree<'a> {
        let mut products = HashMap::new();
        let mut pending: Vec<&Branch> = tree.branches.iter().collect();
        while let Some(branch) = pending.pop() {
            if let Some(product) = &branch.product {
                products.insert(product.product_id.as_str(), product);
            }
            pending.extend(&branch.branches);
        }
        let relationships = tree
            .relationships
            .iter()
            .filter(|r| r.category == "default_component_of")
            .map(|r| {
                (
                    r.full_product_name.product_id.as_str(),
                    (
                        r.product_reference.as_str(),
                        r.relates_to_product_reference.as_str(),
                    ),
                )
            })
            .collect();
        Tree {
            products,
            relationships,
        }
    }

    fn purl(&self, id: &str) -> Option<&'a str> {
        self.products
            .get(id)?
            .product_identification_helper
            .as_ref()?
            .purl
            .as_deref()
    }

    fn cpe(&self, id: &str) -> Option<&'a str> {
        self.products
            .get(id)?
            .product_identification_helper
            .as_ref()?
            .cpe
            .as_deref()
    }

    /// Follows the relationships from a status product id up to a platform with a CPE. `None`
    /// when the id is no relationship, the chain is broken or too deep, or the platform is not
    /// a main RHEL stream.
    fn place(&self, id: &str) -> Option<Placement<'a>> {
        let &(component, mut parent) = self.relationships.get(id)?;
        let mut wrappers = Vec::new();
        for _ in 0..MAX_NESTING {
            if let Some(cpe) = self.cpe(parent) {
                return Some(Placement {
                    release: rhel_release(cpe)?,
                    component,
                    wrappers,
                });
            }
            // The parent is itself a combination: a module stream as a component of a product.
            let &(inner, outer) = self.relationships.get(parent)?;
            wrappers.push(inner);
            parent = outer;
        }
        None
    }
}

/// The RHEL major release of a main-stream CPE: `cpe:/o:redhat:enterprise_linux:9::baseos` and
/// `cpe:/a:redhat:enterprise_linux:8::appstream` give `9` and `8`, as does the bare
/// `cpe:/o:redhat:enterprise_linux:9` of unfixed components. Extended-support streams have their
/// own CPE product (`rhel_eus:9.2`) and fall out here, as do layered products. Fast Datapath
/// reuses `enterprise_linux:N` with its own edition, but ships its own builds (`el8fdp`).
fn rhel_release(cpe: &str) -> Option<String> {
    let fields: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else {
        cpe.strip_prefix("cpe:/")?.split(':').collect()
    };
    let (vendor, product, version) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
    let edition = fields.get(5).copied().unwrap_or("");
    let major = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    (*vendor == "redhat" && *product == "enterprise_linux" && major && edition != "fastdatapath")
        .then(|| (*version).to_owned())
}

/// A package as a status list names it, read from its purl or, when it has none (the beta
/// documents of 2023), from its product id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Component {
    /// The rpm name (a source rpm for the entries kept).
    name: String,
    /// `epoch:version-release`, without the epoch when it is 0; `None` for the unversioned
    /// components of unfixed entries.
    evr: Option<String>,
    /// A binary rpm rather than a source rpm.
    binary: bool,
    /// `module:stream` of an `AppStream` module package.
    module: Option<String>,
}

impl Component {
    /// The name the advisory is filed under.
    fn key(&self) -> String {
        match &self.module {
            Some(stream) => format!("{stream}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The parts of a purl read here, percent-decoded.
struct Purl {
    kind: String,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl Purl {
    fn parse(text: &str) -> Option<Purl> {
        let decode = |part: &str| {
            String::from_utf8_lossy(&rempart_core::percent_decode(part.as_bytes())).into_owned()
        };
        let text = text.strip_prefix("pkg:")?;
        let text = text.split('#').next().unwrap_or(text);
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        let (kind, rest) = path.split_once('/')?;
        let (rest, version) = match rest.rsplit_once('@') {
            Some((rest, version)) => (rest, Some(decode(version))),
            None => (rest, None),
        };
        let name = decode(rest.rsplit('/').next().unwrap_or(rest));
        let qualifiers = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_ascii_lowercase(), decode(value)))
            .collect();
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            name,
            version,
            qualifiers,
        })
    }

    fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// `name-epoch:version-release.arch`, the way Red Hat names versioned products. The epoch is
/// always written (`-0:` for none): without it `a-b-c.d` could as well be a plain name.
struct Nevra<'a> {
    name: &'a str,
    epoch: &'a str,
    version: &'a str,
    release: &'a str,
    arch: &'a str,
}

fn parse_nevra(text: &str) -> Option<Nevra<'_>> {
    let (rest, arch) = text.rsplit_once('.')?;
    let (rest, release) = rest.rsplit_once('-')?;
    let (name, epoch_version) = rest.rsplit_once('-')?;
    let (epoch, version) = epoch_version.split_once(':')?;
    let valid = !name.is_empty()
        && !epoch.is_empty()
        && epoch.bytes().all(|b| b.is_ascii_digit())
        && !version.is_empty()
        && !release.is_empty()
        && !arch.is_empty();
    valid.then_some(Nevra {
        name,
        epoch,
        version,
        release,
        arch,
    })
}

/// `version-release` with the epoch in front unless it is 0, as the catalog spells an installed
/// package's source version.
fn evr(epoch: Option<&str>, version_release: &str) -> String {
    match epoch.map(|e| e.trim_start_matches('0')) {
        Some(epoch) if !epoch.is_empty() => format!("{epoch}:{version_release}"),
        _ => version_release.to_owned(),
    }
}

/// Splits the module forms off a product id: `nevra::module:stream` (documents since 2025),
/// `module:stream/name` (unfixed module packages), `name:stream:version:context:nevra` (older
/// module builds). Returns the rest and the `module:stream`.
fn split_module_id(id: &str) -> (&str, Option<String>) {
    if let Some((rest, stream)) = id.rsplit_once("::") {
        return (rest, module_stream(stream));
    }
    if let Some((stream, name)) = id.split_once('/')
        && let Some(stream) = module_stream(stream)
    {
        return (name, Some(stream));
    }
    // `nodejs:16:8060020220922040605:ad008a3a:nodejs-1:16.17.1-1.module+el8.6.0+…` : the module
    // takes four `:`-separated fields before the package's own name.
    let fields: Vec<&str> = id.splitn(5, ':').collect();
    if fields.len() == 5
        && fields[2].bytes().all(|b| b.is_ascii_digit())
        && !fields[2].is_empty()
        && fields[4].contains('-')
    {
        return (fields[4], module_stream(id));
    }
    (id, None)
}

/// The module stream a product id or purl of a wrapper (a module placed in a product) names:
/// `pkg:rpmmod/redhat/postgresql@15:9040020240812115436:rhel9`, or the id
/// `postgresql:15:9040020240812115436:rhel9`.
fn wrapper_stream(tree: &Tree<'_>, id: &str) -> Option<String> {
    if let Some(purl) = tree.purl(id).and_then(Purl::parse)
        && purl.kind == "rpmmod"
    {
        let stream = purl.version.as_deref()?.split(':').next()?;
        return module_stream(&format!("{}:{stream}", purl.name));
    }
    let fields: Vec<&str> = id.split(':').collect();
    (fields.len() == 4 && fields[2].bytes().all(|b| b.is_ascii_digit()))
        .then(|| module_stream(id))
        .flatten()
}

/// Reads the component of a placement. `None` for what is not an rpm (container images,
/// Java archives, modules themselves) and for a module label that names no stream.
fn component(tree: &Tree<'_>, placement: &Placement<'_>) -> Option<Component> {
    let id = placement.component;
    let (id_rest, id_module) = split_module_id(id);
    let nevra = parse_nevra(id_rest);
    let mut module = id_module;
    let mut component = match tree.purl(id) {
        Some(purl) => {
            let purl = Purl::parse(purl)?;
            if purl.kind != "rpm" {
                return None;
            }
            if let Some(label) = purl.qualifier("rpmmod") {
                // A label without a stream (`rpmmod=rhel10`) cannot be told apart from another
                // stream's packages: such entries are left out rather than guessed.
                module = Some(module_stream(label)?);
            }
            let epoch = purl
                .qualifier("epoch")
                .or_else(|| nevra.as_ref().map(|n| n.epoch));
            Component {
                binary: purl.qualifier("arch") != Some("src"),
                evr: purl.version.as_deref().map(|v| evr(epoch, v)),
                name: purl.name,
                module: None,
            }
        }
        None => match &nevra {
            Some(nevra) => Component {
                name: nevra.name.to_owned(),
                evr: Some(evr(
                    Some(nevra.epoch),
                    &format!("{}-{}", nevra.version, nevra.release),
                )),
                binary: nevra.arch != "src",
                module: None,
            },
            // An unversioned component without a purl (the beta documents) names its source
            // package.
            None => Component {
                name: id_rest.to_owned(),
                evr: None,
                binary: false,
                module: None,
            },
        },
    };
    if module.is_none() {
        module = placement
            .wrappers
            .iter()
            .find_map(|wrapper| wrapper_stream(tree, wrapper));
    }
    component.module = module;
    // What is left of a container image or a module written without a purl is no rpm name.
    let rpm_name = !component.name.is_empty()
        && !component
            .name
            .contains(|c: char| c == ':' || c == '/' || c.is_whitespace());
    rpm_name.then_some(component)
}

/// The state of a `known_affected` product, from the remediation Red Hat gives for it.
fn unfixed_state(remediation: Option<&Remediation>) -> UnfixedState {
    let Some(remediation) = remediation else {
        return UnfixedState::Affected;
    };
    let details = remediation.details.as_deref().unwrap_or("").trim();
    match remediation.category.as_str() {
        "no_fix_planned" if details.eq_ignore_ascii_case("Will not fix") => {
            UnfixedState::WillNotFix
        }
        "no_fix_planned" if details.eq_ignore_ascii_case("Out of support scope") => {
            UnfixedState::EndOfLife
        }
        "none_available" if details.eq_ignore_ascii_case("Fix deferred") => {
            UnfixedState::FixDeferred
        }
        _ => UnfixedState::Affected,
    }
}

/// The erratum ids (`RHSA-2023:7507`) a text names: the remediation's URL or details.
fn erratum_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for prefix in ["RHSA-", "RHBA-", "RHEA-"] {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            let year: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let Some(rest) = rest[year.len()..].strip_prefix(':') else {
                continue;
            };
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if year.len() == 4 && !number.is_empty() {
                ids.push(format!("{prefix}{year}:{number}"));
            }
        }
    }
    ids
}

/// What a vulnerability says of one package in one release.
enum Status {
    /// Fixed at this version (the lowest among the release's main-stream products).
    Fixed(String),
    Unfixed(UnfixedState),
}

struct Entry {
    status: Status,
    severity: Option<Severity>,
}

fn convert_vulnerability(
    document: &CsafDocument,
    tree: &Tree<'_>,
    vulnerability: &Vulnerability,
) -> Option<Advisory> {
    let id = vulnerability
        .cve
        .clone()
        .or_else(|| {
            let id = &document.document.tracking.id;
            id.starts_with("CVE-").then(|| id.clone())
        })?
        .trim()
        .to_owned();
    let mut impact: HashMap<&str, Severity> = HashMap::new();
    for threat in vulnerability
        .threats
        .iter()
        .filter(|t| t.category == "impact")
    {
        if let Some(severity) = threat.details.as_deref().and_then(distro_severity) {
            for product in &threat.product_ids {
                impact.insert(product.as_str(), severity);
            }
        }
    }
    // The remediation that explains why a product has no fix; a workaround or mitigation listed
    // beside it says nothing of that.
    let mut no_fix: HashMap<&str, &Remediation> = HashMap::new();
    for remediation in &vulnerability.remediations {
        if matches!(
            remediation.category.as_str(),
            "no_fix_planned" | "none_available"
        ) {
            for product in &remediation.product_ids {
                no_fix.entry(product.as_str()).or_insert(remediation);
            }
        }
    }

    let mut entries: BTreeMap<(String, String), Entry> = BTreeMap::new();
    let mut kept: Vec<&str> = Vec::new();
    for product in &vulnerability.product_status.fixed {
        let Some((placement, component)) = source_component(tree, product) else {
            continue;
        };
        let Some(version) = component.evr.clone() else {
            continue;
        };
        kept.push(product);
        let severity = impact.get(product.as_str()).copied();
        // Several main-stream products of one release may be fixed at different versions: a
        // z-stream still maintained for a minor release (`AppStream-9.2.0.Z.MAIN.EUS`, fixed in
        // `…el9_2.4`) beside the current one (`AppStream-9.3.0.Z.MAIN`, `…el9_3.2`). One range
        // per stream would need the image's minor release and stream, which an image does not
        // record reliably. The lowest fix is kept, so a package updated on any of these streams
        // reads as fixed. What is lost: a package of the newer stream built before that stream's
        // own fix but numbered above the older stream's fix (`…el9_3` between `…el9_2.4` and
        // `…el9_3.2`) is not reported.
        match entries.entry((placement.release, component.key())) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(Entry {
                    status: Status::Fixed(version),
                    severity,
                });
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => {
                let entry = slot.get_mut();
                if let Status::Fixed(current) = &entry.status
                    && VersionScheme::Rpm.compare(&version, current) == Ok(Ordering::Less)
                {
                    entry.status = Status::Fixed(version);
                    entry.severity = severity.or(entry.severity);
                }
            }
        }
    }
    let unfixed = vulnerability
        .product_status
        .known_affected
        .iter()
        .map(|product| {
            (
                product,
                unfixed_state(no_fix.get(product.as_str()).copied()),
            )
        })
        .chain(
            vulnerability
                .product_status
                .under_investigation
                .iter()
                .map(|product| (product, UnfixedState::UnderInvestigation)),
        );
    for (product, state) in unfixed {
        let Some((placement, component)) = source_component(tree, product) else {
            continue;
        };
        kept.push(product);
        // A fix listed for the same package and release wins: the unfixed entry then concerns
        // a build the fix replaced.
        entries
            .entry((placement.release, component.key()))
            .or_insert_with(|| Entry {
                status: Status::Unfixed(state),
                severity: impact.get(product.as_str()).copied(),
            });
    }
    if entries.is_empty() {
        return None;
    }

    let affected: Vec<AffectedPackage> = entries
        .into_iter()
        .map(|((release, name), entry)| {
            let (events, state) = match entry.status {
                Status::Fixed(version) => (
                    vec![Event::Introduced("0".to_owned()), Event::Fixed(version)],
                    UnfixedState::Affected,
                ),
                Status::Unfixed(state) => (vec![Event::Introduced("0".to_owned())], state),
            };
            AffectedPackage {
                ecosystem: ECOSYSTEM.to_owned(),
                release,
                name,
                ranges: vec![VersionRange {
                    kind: RangeKind::Ecosystem,
                    events,
                    sorted: false,
                }],
                versions: Vec::new(),
                severity: entry.severity,
                state,
                imports: Vec::new(),
            }
        })
        .collect();

    // Errata that fix a kept product: an erratum for OpenShift or an extended-support stream is
    // no answer for an image of the main stream.
    let mut aliases: Vec<String> = Vec::new();
    let mut errata_urls: Vec<String> = Vec::new();
    for remediation in &vulnerability.remediations {
        let covers_kept = remediation
            .product_ids
            .iter()
            .any(|p| kept.contains(&p.as_str()));
        if remediation.category != "vendor_fix" || !covers_kept {
            continue;
        }
        let url = remediation.url.as_deref().unwrap_or("");
        for erratum in erratum_ids(url)
            .into_iter()
            .chain(erratum_ids(remediation.details.as_deref().unwrap_or("")))
        {
            if !aliases.contains(&erratum) && erratum != id {
                aliases.push(erratum);
            }
        }
        if !url.is_empty() && !errata_urls.iter().any(|u| u == url) {
            errata_urls.push(url.to_owned());
        }
    }

    // Red Hat usually scores a CVE once for every product; a score given for the kept products
    // is preferred over one given for others.
    let scores_for_kept: Vec<&CvssV3> = vulnerability
        .scores
        .iter()
        .filter(|s| s.products.iter().any(|p| kept.contains(&p.as_str())))
        .filter_map(|s| s.cvss_v3.as_ref())
        .collect();
    let scores = if scores_for_kept.is_empty() {
        vulnerability
            .scores
            .iter()
            .filter_map(|s| s.cvss_v3.as_ref())
            .collect()
    } else {
        scores_for_kept
    };
    let mut cvss: Vec<String> = Vec::new();
    let mut cvss_score_max: Option<f64> = None;
    // The vector with the highest score rates the record when another record of the flaw needs
    // a rating (a language package's finding through the CVE).
    let mut cvss_vector: Option<String> = None;
    for score in scores {
        let vector = score.vector_string.trim();
        if vector.is_empty() || cvss.iter().any(|v| v == vector) {
            continue;
        }
        cvss.push(vector.to_owned());
        if let Some(value) = cvss_score(vector).or(score.base_score)
            && cvss_score_max.is_none_or(|max| value > max)
        {
            cvss_score_max = Some(value);
            cvss_vector = Some(vector.to_owned());
        }
    }

    // Red Hat's own rating of the flaw; the products' ratings when the document has none.
    let severity = document
        .document
        .aggregate_severity
        .as_ref()
        .and_then(|s| distro_severity(&s.text))
        .or_else(|| affected.iter().filter_map(|a| a.severity).max())
        .unwrap_or(Severity::Unknown);
    let title = document
        .document
        .title
        .as_deref()
        .or(vulnerability.title.as_deref())
        .map(title_from)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| id.clone());
    let mut references: Vec<String> = vulnerability
        .references
        .iter()
        .map(|r| r.url.clone())
        .filter(|u| !u.is_empty())
        .collect();
    for url in errata_urls {
        if !references.contains(&url) {
            references.push(url);
        }
    }
    Some(Advisory {
        id,
        title,
        aliases,
        severity,
        cvss,
        cvss_vector,
        cvss_score: cvss_score_max,
        rated_severity: None,
        references,
        modified: document
            .document
            .tracking
            .current_release_date
            .as_deref()
            .and_then(normalize_timestamp),
        affected,
    })
}

/// The placement and component of a status product id, when it is a source rpm of a main RHEL
/// stream.
fn source_component<'a>(tree: &Tree<'a>, product: &str) -> Option<(Placement<'a>, Component)> {
    let placement = tree.place(product)?;
    let component = component(tree, &placement)?;
    (!component.binary).then_some((placement, component))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(json: &str) -> CsafDocument {
        serde_json::from_str(json).unwrap()
    }

    fn advisories(json: &str) -> Vec<Advisory> {
        match convert(&document(json)).unwrap() {
            Converted::Advisories(advisories) => advisories,
            Converted::Withdrawn => panic!("withdrawn"),
        }
    }

    /// A document with the given products (id, purl), relationships (component, parent) and
    /// status lists, in the shape Red Hat writes.
    fn build(
        products: &[(&str, Option<&str>)],
        relationships: &[(&str, &str)],
        fixed: &[&str],
        affected: &[&str],
        remediations: &str,
    ) -> String {
        let platforms = serde_json::json!([
            {"category": "product_name", "name": "AppStream 9",
             "product": {"product_id": "AppStream-9.3.0.Z.MAIN", "name": "AppStream 9",
                         "product_identification_helper": {"cpe": "cpe:/a:redhat:enterprise_linux:9::appstream"}}},
            {"category": "product_name", "name": "AppStream 9 EUS",
             "product": {"product_id": "AppStream-9.2.0.Z.MAIN.EUS", "name": "AppStream 9",
                         "product_identification_helper": {"cpe": "cpe:/a:redhat:enterprise_linux:9::appstream"}}},
            {"category": "product_name", "name": "AppStream 9.0 EUS",
             "product": {"product_id": "AppStream-9.0.0.Z.EUS", "name": "AppStream EUS",
                         "product_identification_helper": {"cpe": "cpe:/a:redhat:rhel_eus:9.0::appstream"}}},
            {"category": "product_name", "name": "AppStream 8",
             "product": {"product_id": "AppStream-8.10.0.Z.MAIN", "name": "AppStream 8",
                         "product_identification_helper": {"cpe": "cpe:/a:redhat:enterprise_linux:8::appstream"}}},
            {"category": "product_name", "name": "RHEL 8",
             "product": {"product_id": "red_hat_enterprise_linux_8", "name": "RHEL 8",
                         "product_identification_helper": {"cpe": "cpe:/o:redhat:enterprise_linux:8"}}}
        ]);
        let versions: Vec<serde_json::Value> = products
            .iter()
            .map(|(id, purl)| {
                let mut product = serde_json::json!({"product_id": id, "name": id});
                if let Some(purl) = purl {
                    product["product_identification_helper"] = serde_json::json!({"purl": purl});
                }
                serde_json::json!({"category": "product_version", "name": id, "product": product})
            })
            .collect();
        let relationships: Vec<serde_json::Value> = relationships
            .iter()
            .map(|(component, parent)| {
                serde_json::json!({
                    "category": "default_component_of",
                    "full_product_name": {"name": "x", "product_id": format!("{parent}:{component}")},
                    "product_reference": component,
                    "relates_to_product_reference": parent,
                })
            })
            .collect();
        serde_json::json!({
            "document": {
                "category": "csaf_vex",
                "title": "test: a flaw",
                "aggregate_severity": {"text": "Moderate"},
                "publisher": {"name": "Red Hat Product Security", "namespace": "https://www.redhat.com"},
                "tracking": {"id": "CVE-2099-0001", "status": "final",
                             "current_release_date": "2025-01-02T03:04:05+00:00"}
            },
            "product_tree": {
                "branches": [{"category": "vendor", "name": "Red Hat",
                              "branches": [{"category": "product_family", "name": "RHEL", "branches": platforms},
                                           {"category": "architecture", "name": "src", "branches": versions}]}],
                "relationships": relationships
            },
            "vulnerabilities": [{
                "cve": "CVE-2099-0001",
                "product_status": {"fixed": fixed, "known_affected": affected},
                "remediations": serde_json::from_str::<serde_json::Value>(remediations).unwrap()
            }]
        })
        .to_string()
    }

    fn fixed_version(advisory: &Advisory, release: &str, name: &str) -> Option<String> {
        let affected = advisory
            .affected
            .iter()
            .find(|a| a.release == release && a.name == name)?;
        affected.ranges[0].events.iter().find_map(|e| match e {
            Event::Fixed(v) => Some(v.clone()),
            _ => None,
        })
    }

    #[test]
    fn main_streams_keep_their_lowest_fix_and_extended_support_is_left_out() {
        let json = build(
            &[
                (
                    "curl-0:7.76.1-26.el9_3.2.src",
                    Some("pkg:rpm/redhat/curl@7.76.1-26.el9_3.2?arch=src"),
                ),
                (
                    "curl-0:7.76.1-23.el9_2.4.src",
                    Some("pkg:rpm/redhat/curl@7.76.1-23.el9_2.4?arch=src"),
                ),
                (
                    "curl-0:7.76.1-14.el9_0.5.src",
                    Some("pkg:rpm/redhat/curl@7.76.1-14.el9_0.5?arch=src"),
                ),
                (
                    "curl-0:7.76.1-26.el9_3.2.x86_64",
                    Some("pkg:rpm/redhat/curl@7.76.1-26.el9_3.2?arch=x86_64"),
                ),
            ],
            &[
                ("curl-0:7.76.1-26.el9_3.2.src", "AppStream-9.3.0.Z.MAIN"),
                ("curl-0:7.76.1-23.el9_2.4.src", "AppStream-9.2.0.Z.MAIN.EUS"),
                ("curl-0:7.76.1-14.el9_0.5.src", "AppStream-9.0.0.Z.EUS"),
                ("curl-0:7.76.1-26.el9_3.2.x86_64", "AppStream-9.3.0.Z.MAIN"),
            ],
            &[
                "AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.src",
                "AppStream-9.2.0.Z.MAIN.EUS:curl-0:7.76.1-23.el9_2.4.src",
                "AppStream-9.0.0.Z.EUS:curl-0:7.76.1-14.el9_0.5.src",
                "AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.x86_64",
            ],
            &[],
            r#"[{"category": "vendor_fix", "url": "https://access.redhat.com/errata/RHSA-2023:5763",
                 "product_ids": ["AppStream-9.3.0.Z.MAIN:curl-0:7.76.1-26.el9_3.2.src"]},
                {"category": "vendor_fix", "url": "https://access.redhat.com/errata/RHSA-2023:5766",
                 "product_ids": ["AppStream-9.0.0.Z.EUS:curl-0:7.76.1-14.el9_0.5.src"]}]"#,
        );
        let advisories = advisories(&json);
        assert_eq!(advisories.len(), 1);
        let advisory = &advisories[0];
        assert_eq!(advisory.id, "CVE-2099-0001");
        assert_eq!(advisory.affected.len(), 1, "{:?}", advisory.affected);
        assert_eq!(
            fixed_version(advisory, "9", "curl").as_deref(),
            Some("7.76.1-23.el9_2.4")
        );
        // The erratum of the extended-support stream is not one a main-stream image can apply.
        assert_eq!(advisory.aliases, ["RHSA-2023:5763"]);
        assert_eq!(advisory.severity, Severity::Medium);
        assert_eq!(advisory.modified.as_deref(), Some("2025-01-02T03:04:05Z"));
    }

    #[test]
    fn module_packages_in_every_spelling() {
        let json = build(
            &[
                // Before 2025: the module is a product the package is a component of.
                (
                    "nodejs:16:8060020220922040605:ad008a3a",
                    Some("pkg:rpmmod/redhat/nodejs@16:8060020220922040605:ad008a3a"),
                ),
                (
                    "nodejs-1:16.17.1-1.module+el8.6.0+16848+a483195a.src",
                    Some(
                        "pkg:rpm/redhat/nodejs@16.17.1-1.module%2Bel8.6.0%2B16848%2Ba483195a?arch=src&epoch=1",
                    ),
                ),
                // Since 2025: the label is in the purl, the stream in the id.
                (
                    "perl-4:5.32.1-473.module+el8.10.0+21354+3ad137bb.src::perl:5.32",
                    Some(
                        "pkg:rpm/redhat/perl@5.32.1-473.module%2Bel8.10.0%2B21354%2B3ad137bb?arch=src&epoch=4&rpmmod=perl:5.32:8100020240314121426:9fe1d287",
                    ),
                ),
                // Older ids carry the module's name:stream:version:context in front.
                (
                    "ruby:3.1:8100020240102072525:489197e6:ruby-0:3.1.4-143.module+el8.10.0+20923+a2c1e3ca.src",
                    None,
                ),
                // Unfixed module packages: `module:stream/name`.
                (
                    "container-tools:rhel8/buildah",
                    Some("pkg:rpm/redhat/buildah?arch=src&rpmmod=container-tools:rhel8"),
                ),
                ("php:7.4/php", None),
                // A label without a stream is left out.
                (
                    "firefox-flatpak",
                    Some("pkg:rpm/redhat/firefox-flatpak?arch=src&rpmmod=rhel10"),
                ),
            ],
            &[
                (
                    "nodejs:16:8060020220922040605:ad008a3a",
                    "AppStream-8.10.0.Z.MAIN",
                ),
                (
                    "nodejs-1:16.17.1-1.module+el8.6.0+16848+a483195a.src",
                    "AppStream-8.10.0.Z.MAIN:nodejs:16:8060020220922040605:ad008a3a",
                ),
                (
                    "perl-4:5.32.1-473.module+el8.10.0+21354+3ad137bb.src::perl:5.32",
                    "AppStream-8.10.0.Z.MAIN",
                ),
                (
                    "ruby:3.1:8100020240102072525:489197e6:ruby-0:3.1.4-143.module+el8.10.0+20923+a2c1e3ca.src",
                    "AppStream-8.10.0.Z.MAIN",
                ),
                (
                    "container-tools:rhel8/buildah",
                    "red_hat_enterprise_linux_8",
                ),
                ("php:7.4/php", "red_hat_enterprise_linux_8"),
                ("firefox-flatpak", "red_hat_enterprise_linux_8"),
            ],
            &[
                "AppStream-8.10.0.Z.MAIN:nodejs:16:8060020220922040605:ad008a3a",
                "AppStream-8.10.0.Z.MAIN:nodejs:16:8060020220922040605:ad008a3a:nodejs-1:16.17.1-1.module+el8.6.0+16848+a483195a.src",
                "AppStream-8.10.0.Z.MAIN:perl-4:5.32.1-473.module+el8.10.0+21354+3ad137bb.src::perl:5.32",
                "AppStream-8.10.0.Z.MAIN:ruby:3.1:8100020240102072525:489197e6:ruby-0:3.1.4-143.module+el8.10.0+20923+a2c1e3ca.src",
            ],
            &[
                "red_hat_enterprise_linux_8:container-tools:rhel8/buildah",
                "red_hat_enterprise_linux_8:php:7.4/php",
                "red_hat_enterprise_linux_8:firefox-flatpak",
            ],
            r#"[{"category": "none_available", "details": "Fix deferred",
                 "product_ids": ["red_hat_enterprise_linux_8:container-tools:rhel8/buildah"]},
                {"category": "no_fix_planned", "details": "Out of support scope",
                 "product_ids": ["red_hat_enterprise_linux_8:php:7.4/php"]}]"#,
        );
        let advisory = &advisories(&json)[0];
        let names: Vec<&str> = advisory.affected.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "container-tools:rhel8/buildah",
                "nodejs:16/nodejs",
                "perl:5.32/perl",
                "php:7.4/php",
                "ruby:3.1/ruby"
            ]
        );
        assert_eq!(
            fixed_version(advisory, "8", "nodejs:16/nodejs").as_deref(),
            Some("1:16.17.1-1.module+el8.6.0+16848+a483195a")
        );
        assert_eq!(
            fixed_version(advisory, "8", "perl:5.32/perl").as_deref(),
            Some("4:5.32.1-473.module+el8.10.0+21354+3ad137bb")
        );
        assert_eq!(
            fixed_version(advisory, "8", "ruby:3.1/ruby").as_deref(),
            Some("3.1.4-143.module+el8.10.0+20923+a2c1e3ca")
        );
        let state = |name: &str| {
            advisory
                .affected
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .state
        };
        assert_eq!(
            state("container-tools:rhel8/buildah"),
            UnfixedState::FixDeferred
        );
        assert_eq!(state("php:7.4/php"), UnfixedState::EndOfLife);
    }

    #[test]
    fn unfixed_binary_packages_and_other_purl_types_are_left_out() {
        let json = build(
            &[
                ("curl", Some("pkg:rpm/redhat/curl")),
                ("libcurl-minimal", Some("pkg:rpm/redhat/libcurl-minimal")),
                ("curl.src", Some("pkg:rpm/redhat/curl?arch=src")),
                (
                    "ubi9/httpd-24",
                    Some(
                        "pkg:oci/httpd-24?repository_url=registry.access.redhat.com/ubi9/httpd-24",
                    ),
                ),
            ],
            &[
                ("curl", "red_hat_enterprise_linux_8"),
                ("libcurl-minimal", "red_hat_enterprise_linux_8"),
                ("curl.src", "red_hat_enterprise_linux_8"),
                ("ubi9/httpd-24", "red_hat_enterprise_linux_8"),
            ],
            &[],
            &[
                "red_hat_enterprise_linux_8:curl",
                "red_hat_enterprise_linux_8:libcurl-minimal",
                "red_hat_enterprise_linux_8:curl.src",
                "red_hat_enterprise_linux_8:ubi9/httpd-24",
            ],
            r#"[{"category": "no_fix_planned", "details": "Will not fix",
                 "product_ids": ["red_hat_enterprise_linux_8:curl.src"]},
                {"category": "workaround", "details": "Do not use it.",
                 "product_ids": ["red_hat_enterprise_linux_8:curl.src"]}]"#,
        );
        let advisory = &advisories(&json)[0];
        assert_eq!(advisory.affected.len(), 1, "{:?}", advisory.affected);
        assert_eq!(advisory.affected[0].name, "curl");
        assert_eq!(advisory.affected[0].state, UnfixedState::WillNotFix);
        assert_eq!(
            advisory.affected[0].ranges[0].events,
            [Event::Introduced("0".to_owned())]
        );
    }

    #[test]
    fn a_fix_wins_over_an_unfixed_entry_and_nothing_kept_is_no_advisory() {
        let json = build(
            &[
                (
                    "nss-0:3.101.0-1.el9_3.src",
                    Some("pkg:rpm/redhat/nss@3.101.0-1.el9_3?arch=src"),
                ),
                ("nss", Some("pkg:rpm/redhat/nss?arch=src")),
            ],
            &[
                ("nss-0:3.101.0-1.el9_3.src", "AppStream-9.3.0.Z.MAIN"),
                ("nss", "AppStream-9.3.0.Z.MAIN"),
            ],
            &["AppStream-9.3.0.Z.MAIN:nss-0:3.101.0-1.el9_3.src"],
            &["AppStream-9.3.0.Z.MAIN:nss"],
            "[]",
        );
        let advisory = &advisories(&json)[0];
        assert_eq!(advisory.affected.len(), 1);
        assert_eq!(
            fixed_version(advisory, "9", "nss").as_deref(),
            Some("3.101.0-1.el9_3")
        );

        let only_extended = build(
            &[(
                "nss-0:3.90.0-1.el9_0.src",
                Some("pkg:rpm/redhat/nss@3.90.0-1.el9_0?arch=src"),
            )],
            &[("nss-0:3.90.0-1.el9_0.src", "AppStream-9.0.0.Z.EUS")],
            &["AppStream-9.0.0.Z.EUS:nss-0:3.90.0-1.el9_0.src"],
            &[],
            "[]",
        );
        assert!(advisories(&only_extended).is_empty());
    }

    #[test]
    fn rejected_cves_and_other_publishers() {
        let mut value: serde_json::Value =
            serde_json::from_str(&build(&[], &[], &[], &[], "[]")).unwrap();
        value["vulnerabilities"][0]["notes"] = serde_json::json!([{
            "category": "description",
            "text": "** REJECT ** DO NOT USE THIS CANDIDATE NUMBER."
        }]);
        assert!(matches!(
            convert(&document(&value.to_string())).unwrap(),
            Converted::Withdrawn
        ));
        value["document"]["publisher"]["namespace"] = serde_json::json!("https://www.suse.com");
        let error = convert(&document(&value.to_string())).unwrap_err();
        assert!(error.contains("suse.com"), "{error}");
    }

    #[test]
    fn cpes_of_main_streams() {
        for (cpe, release) in [
            ("cpe:/o:redhat:enterprise_linux:9::baseos", Some("9")),
            ("cpe:/a:redhat:enterprise_linux:8::appstream", Some("8")),
            ("cpe:/a:redhat:enterprise_linux:9::crb", Some("9")),
            ("cpe:/o:redhat:enterprise_linux:9", Some("9")),
            (
                "cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*",
                Some("9"),
            ),
            ("cpe:/a:redhat:rhel_eus:9.2::appstream", None),
            ("cpe:/o:redhat:rhel_e4s:8.6::baseos", None),
            ("cpe:/a:redhat:rhel_aus:8.4::appstream", None),
            ("cpe:/a:redhat:rhel_tus:8.4::appstream", None),
            ("cpe:/o:redhat:enterprise_linux:9.4", None),
            ("cpe:/o:redhat:enterprise_linux:8::fastdatapath", None),
            ("cpe:/a:redhat:openshift:4.16::el9", None),
            ("cpe:/a:redhat:rhel_satellite_client:6::el9", None),
        ] {
            assert_eq!(rhel_release(cpe).as_deref(), release, "{cpe}");
        }
    }

    #[test]
    fn erratum_ids_from_urls_and_text() {
        assert_eq!(
            erratum_ids("https://access.redhat.com/errata/RHSA-2024:2447"),
            ["RHSA-2024:2447"]
        );
        assert_eq!(
            erratum_ids("See RHBA-2023:1234 and RHSA-24:1 (not an id)"),
            ["RHBA-2023:1234"]
        );
        assert!(erratum_ids("https://access.redhat.com/articles/11258").is_empty());
    }
}
