# syntax=docker/dockerfile:1

# The project watcher's image: a static binary on distroless, running as
# nonroot. Build: docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse --short HEAD) .

# ---- build stage: a static, reproducible binary ----
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/watcher ./cmd/watcher

# ---- final stage: no shell, no package manager, uid 65532 ----
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/watcher /watcher
COPY config.yaml /etc/watcher/config.yaml
# A writable working directory for the file resume store's relative path.
WORKDIR /home/nonroot
USER nonroot:nonroot
# http.addr: /healthz /readyz /metrics
EXPOSE 8080
# Exec form: distroless has no shell. `watcher healthcheck` GETs /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/watcher", "healthcheck"]
ENTRYPOINT ["/watcher"]
CMD ["run", "-c", "/etc/watcher/config.yaml"]
