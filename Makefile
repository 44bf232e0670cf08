# Vùng Trồng: `make run` starts the registry with demo data on http://localhost:8080;
# `make test` runs every test. Both install what is missing first.
GO      ?= go
BIN     := bin/vungtrong
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build deps clean

run: deps build
	$(BIN) serve --load-demo data-samples/dak-lak

test:
	bash scripts/test

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/vungtrong

deps:
	bash scripts/install-deps run

clean:
	rm -rf bin
