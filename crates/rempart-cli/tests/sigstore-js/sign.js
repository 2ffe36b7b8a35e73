// Makes keyless Sigstore bundles with sigstore-js against an in-process Fulcio and Rekor
// (@sigstore/mock: real certificates with SCTs, log entries with inclusion proofs and signed
// checkpoints), writes the trusted root that verifies them, and attaches the signature to an
// image in a real registry with @sigstore/oci (OCI referrers, or the referrers tag when the
// registry has no referrers API). Only the Sigstore services are mocked.
//
// Usage: node sign.js OUT_DIR IMAGE_NAME MANIFEST_FILE IDENTITY ISSUER [PAYLOAD_FILE]
// (IMAGE_NAME `-`: nothing is attached.)
//
// Writes to OUT_DIR: trusted-root.json and
// - signature.sigstore.json: the image signed (a message signature over its manifest, logged
//   as a hashedrekord entry), attached;
// - expired.sigstore.json: the image signed with a certificate that had expired when the log
//   recorded the signature (not attached; the test attaches what it tampers with);
// - other.sigstore.json: another artifact signed, for a valid certificate of another key;
// - payload.sigstore.json, with PAYLOAD_FILE: that file signed (a cosign simple-signing
//   payload, which the test stores the way cosign's `.sig` tags do).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const nock = require('nock');
const mock = require('@sigstore/mock');
const { sign } = require('sigstore');
const oci = require('@sigstore/oci');

const FULCIO = 'https://fulcio.test';
const OLD_FULCIO = 'https://old-fulcio.test';
const REKOR = 'https://rekor.test';

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const b64url = (text) => Buffer.from(text).toString('base64url');
const keyPair = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spki = (pair) => pair.publicKey.export({ format: 'der', type: 'spki' });
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest();

function serve(base, handler) {
  nock(base).persist().post(handler.path).reply(async (_, body) => {
    const request = typeof body === 'string' ? body : JSON.stringify(body);
    const { statusCode, response, contentType } = await handler.fn(request);
    return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
  });
}

async function main() {
  const [out, imageName, manifestFile, identity, issuer, payloadFile] = process.argv.slice(2);
  const manifest = fs.readFileSync(manifestFile);
  const digest = 'sha256:' + sha256(manifest).toString('hex');
  const caKey = keyPair(), ctKey = keyPair(), tlogKey = keyPair();
  const ctlog = await mock.initializeCTLog(ctKey);
  const ca = await mock.initializeCA(caKey, ctlog);
  // The same CA, its clock an hour behind: its certificates expired 50 minutes ago.
  const oldCa = await mock.initializeCA(caKey, ctlog, new Date(Date.now() - 3600 * 1000));
  const tlog = await mock.initializeTLog(REKOR, tlogKey);
  serve(FULCIO, mock.fulcioHandler(ca));
  serve(OLD_FULCIO, mock.fulcioHandler(oldCa));
  serve(REKOR, mock.rekorHandler(tlog));
  const now = Math.floor(Date.now() / 1000);
  const token = [
    b64url(JSON.stringify({ alg: 'none', typ: 'JWT' })),
    b64url(JSON.stringify({ iss: issuer, sub: identity, aud: 'sigstore', iat: now, exp: now + 600 })),
    'unsigned',
  ].join('.');
  const identityProvider = { getToken: async () => token };
  const logged = { fulcioURL: FULCIO, rekorURL: REKOR, identityProvider, tlogUpload: true };

  const signature = await sign(manifest, logged);
  const expired = await sign(manifest, { ...logged, fulcioURL: OLD_FULCIO });
  const other = await sign(Buffer.from('another artifact'), logged);
  const validFor = { start: '2000-01-01T00:00:00Z' };
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: REKOR, hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(spki(tlogKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: b64(sha256(spki(tlogKey))) },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: FULCIO, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor,
    }],
    ctlogs: [{
      baseUrl: 'https://ctfe.test', hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(spki(ctKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: b64(ctlog.logID) },
    }],
    timestampAuthorities: [],
  };
  fs.writeFileSync(path.join(out, 'trusted-root.json'), JSON.stringify(root));
  const bundles = { signature, expired, other };
  if (payloadFile) {
    bundles.payload = await sign(fs.readFileSync(payloadFile), logged);
  }
  for (const [name, bundle] of Object.entries(bundles)) {
    fs.writeFileSync(path.join(out, `${name}.sigstore.json`), JSON.stringify(bundle));
  }
  if (imageName === '-') {
    return;
  }
  nock.enableNetConnect();
  await oci.attachArtifactToImage({
    imageName, imageDigest: digest,
    // An open registry: no sign-in (it answers the sign-in probe with 202, which the client
    // would take for a malformed challenge).
    credentials: null,
    artifact: Buffer.from(JSON.stringify(signature)),
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  });
}

main().catch((error) => { console.error(error); process.exit(1); });
