# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.23
FROM golang:${GO_VERSION}-bookworm@sha256:0e3377d7a71c1fcb31cdc3215292712e83baec44e4792aeaa75e503cfcae16ec AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY cmd/ ./cmd/
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server

FROM debian:12-slim@sha256:ad86386827b083b3d71139050b47ffb32bbd9559ea9b1345a739b14fec2d9ecf AS runtime
RUN --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends ca-certificates
RUN useradd --system --uid 10001 app
COPY --from=build /out/server /usr/local/bin/server
USER 10001
HEALTHCHECK --interval=30s CMD ["/usr/local/bin/server", "-healthcheck"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/server"]
