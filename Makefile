# Vùng Trồng: `make run` starts the registry with demo data on http://localhost:8080;
# `make test` runs every test. Both install what is missing first.
GO      ?= go
NPM     ?= npm
BIN     := bin/vungtrong
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test build web deps clean bench-tiles

run: deps build
	VUNGTRONG_AUTH_CODE_SENDER=$${VUNGTRONG_AUTH_CODE_SENDER-log} $(BIN) serve --load-demo data-samples/dak-lak

test:
	bash scripts/test

build: web
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/vungtrong

# The web map, built into web/dist/app and embedded by the Go build.
web: web/app/node_modules/.installed
	$(NPM) --prefix web/app run build --silent

web/app/node_modules/.installed: web/app/package.json web/app/package-lock.json
	$(NPM) --prefix web/app ci --no-audit --no-fund --loglevel=error
	touch $@

deps:
	bash scripts/install-deps run

clean:
	rm -rf bin web/dist/app web/app/node_modules

# The tile benchmark on 1,000,000 generated plots (about 10 minutes the first time; the data is
# kept in $(TMPDIR)/vungtrong-bench-tiles for later runs). See bench/tiles.
bench-tiles: deps build
	$(GO) run ./bench/tiles $(BENCH_FLAGS)
