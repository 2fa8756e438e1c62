# apsandbox — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/apsandbox/apsandbox/sandbox.Version=$(VERSION)
# nomsgpack drops gin's MessagePack codec, which the sandbox never speaks:
# 6.5 MB less binary, and image.
TAGS      ?= nomsgpack
ADDR      ?= :8080
VENDOR_ADDR ?= 127.0.0.1:9090

IMAGE        ?= apsandbox
VENDOR_IMAGE ?= apsandbox-example-vendor
DOCKER       ?= docker
REVISION     := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
CREATED      := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
CONTEXT      := $(BIN)/docker-context

.PHONY: all run test build lint generate bench clean docker

all: lint test build

## build: static binaries into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/apsandbox ./cmd/apsandbox
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/example-vendor ./cmd/example-vendor

## run: the sandbox on $(ADDR) with the example vendor on $(VENDOR_ADDR) wired in
run: build
	@set -e; \
	$(BIN)/example-vendor --addr $(VENDOR_ADDR) & vpid=$$!; \
	trap 'kill $$vpid 2>/dev/null' EXIT INT TERM; \
	$(BIN)/apsandbox serve --addr $(ADDR) --vendor http://$(VENDOR_ADDR)

## test: every test, with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.gen\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## generate: regenerate code from openapi.yaml
generate:
	$(GO) generate ./...

## bench: benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## docker: the sandbox and example-vendor images, FROM scratch, offline
docker: build
	rm -rf $(CONTEXT) && mkdir -p $(CONTEXT)/data $(CONTEXT)/tmp
	cp $(BIN)/apsandbox $(BIN)/example-vendor $(CONTEXT)/
	$(DOCKER) build -q -f docker/Dockerfile \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg CREATED=$(CREATED) \
		-t $(IMAGE):$(VERSION) -t $(IMAGE):latest $(CONTEXT)
	$(DOCKER) build -q -f docker/example-vendor.Dockerfile \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg CREATED=$(CREATED) \
		-t $(VENDOR_IMAGE):$(VERSION) -t $(VENDOR_IMAGE):latest $(CONTEXT)
	@$(DOCKER) image inspect -f '{{.Size}}' $(IMAGE):latest | awk '{printf "$(IMAGE):latest is %.1f MB\n", $$1/1e6}'

clean:
	rm -rf $(BIN)
