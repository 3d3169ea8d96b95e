# Two commands: `make run` sets up and starts everything on this machine;
# `make test` runs the whole suite against throwaway servers.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO_TEST_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: help run demo test fmt-check vet bench build clean

help:
	@echo 'make run     build, start PostgreSQL + Redis in .data/ and run xbsettle (Ctrl-C stops all)'
	@echo 'make demo    drive a generated day of trade through the API of make run (started if not running)'
	@echo 'make test    gofmt check, go vet, then go test against throwaway PostgreSQL + Redis'
	@echo 'make bench   xbsettle bench against throwaway durable servers'
	@echo 'make build   go build ./...'
	@echo 'make clean   stop the servers of make run and remove .data/'

run:
	bash scripts/run.sh

# DEMO_FLAGS are xbsettle demo's: make demo DEMO_FLAGS='-seed 7 -parcels 5000'.
DEMO_FLAGS ?=
demo:
	bash scripts/demo.sh $(DEMO_FLAGS)

test: fmt-check vet
	bash scripts/lib.sh ensure_packages --cc
	bash scripts/with-stack.sh -- go test $(GO_TEST_FLAGS) ./...

# Lists (and fails on) every .go file gofmt would change; testdata is left alone.
fmt-check:
	@files="$$(find . \( -path ./.data -o -path ./.git -o -name testdata \) -prune -o -name '*.go' -print0 | xargs -0 -r gofmt -l)"; \
	if [[ -n "$$files" ]]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$files"; exit 1; fi

vet:
	go vet ./...

bench:
	go build -o .data/bin/xbsettle ./cmd/xbsettle
	bash scripts/with-stack.sh --durable -- .data/bin/xbsettle bench

build:
	go build ./...

clean:
	bash scripts/lib.sh stop_postgres .data/pg
	bash scripts/lib.sh stop_redis .data/redis
	rm -rf .data
