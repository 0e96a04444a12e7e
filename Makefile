# Contacts back end: build, lint, test and run locally.
# `make` (or `make help`) lists the targets. Paths are relative to the repo
# root; ../shared/ (data) sits beside the repo.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# ---- tools -----------------------------------------------------------------
# Every Python tool comes from the pinned venv, never from PATH (a global
# cfn-lint or moto_server may exist and be a different version).
PYTHON       ?= python3
VENV         := .local/venv
VENV_BIN     := $(VENV)/bin
REQUIREMENTS := local/requirements.txt
VENV_STAMP   := $(VENV)/.installed
SAM          := $(VENV_BIN)/sam
CFN_LINT     := $(VENV_BIN)/cfn-lint

# sam validate/build need a region; they never reach AWS here, so dummy
# credentials are supplied when none are set. Telemetry off.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_REGION=$${AWS_REGION:-us-east-1} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test}

# The local emulator (moto server, local/emulator.sh) and what code under test
# needs to reach it.
EMULATOR_ENV := AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

# ---- Go build (same flags as Lambda) ----------------------------------------
GOARCH         ?= arm64
GO_BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
GO_BUILD_ENV    = CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH)
GOTESTFLAGS    ?=
RUNNER_FLAGS   ?=

# LogicalId=package dir, one per function in template.yaml (local/CONTRACT.md).
FUNCTIONS := \
	CreateContactFunction=create-contact \
	ListContactsFunction=list-contacts \
	GetContactFunction=get-contact \
	UpdateContactFunction=update-contact \
	DeleteContactFunction=delete-contact \
	AddNoteFunction=add-note \
	ListNotesFunction=list-notes \
	DeleteNoteFunction=delete-note \
	AddTagFunction=add-tag \
	RemoveTagFunction=remove-tag \
	ListTagsFunction=list-tags \
	HideContactFunction=hide-contact \
	UnhideContactFunction=unhide-contact \
	RecordPurchaseFunction=record-purchase \
	RefundPurchaseFunction=refund-purchase \
	GrantOfferFunction=grant-offer \
	EndPurchaseFunction=end-purchase \
	MuteContactFunction=mute-contact \
	UnmuteContactFunction=unmute-contact \
	RecordActivityFunction=record-activity \
	ListLifecycleFunction=list-lifecycle \
	IngestEmailEventsFunction=ingest-email-events \
	SesWebhookFunction=ses-webhook \
	SendPasswordResetFunction=send-password-reset \
	ChangePasswordFunction=change-password \
	CompletePasswordResetFunction=complete-password-reset \
	SignInFunction=sign-in

fn_id  = $(word 1,$(subst =, ,$(1)))
fn_dir = $(word 2,$(subst =, ,$(1)))

# ---- local tools' inputs -----------------------------------------------------
SITE  ?= demo
ROLE  ?= owner
EMAIL ?= owner@demo.example.com
CSV   ?= ../shared/data/contacts-mailchimp-export.csv
API   ?= http://127.0.0.1:3000
# The emulator make dev uses (its -emulator flag); ses-events publishes there.
EMULATOR ?= 127.0.0.1:4566
SES_DIR  ?= ../shared/data/ses
LOCAL_BIN := .local/bin

.PHONY: help venv build lint test dev token seed ses-events bench clean \
	$(foreach f,$(FUNCTIONS),build-$(call fn_id,$(f)))

help: ## List the targets (this text)
	@echo "Usage: make TARGET [VAR=value ...]"
	@echo
	@awk 'BEGIN {FS = ":.*## "} \
		/^[a-zA-Z0-9_.-]+:.*## / {printf "  %-22s %s\n", $$1, $$2} \
		/^##> / {sub(/^##> /, ""); split($$0, a, ": "); printf "  %-22s %s\n", a[1], substr($$0, length(a[1]) + 3)}' \
		$(firstword $(MAKEFILE_LIST))

venv: $(VENV_STAMP) ## Create .local/venv with the pinned tools (moto, SAM CLI, cfn-lint)

# Reinstalled only when local/requirements.txt changes.
$(VENV_STAMP): $(REQUIREMENTS)
	@[ -x $(VENV_BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install --disable-pip-version-check --no-input -q -r $(REQUIREMENTS)
	@touch $@

# sam build runs `make build-<LogicalId>` per function. --build-in-source:
# with CodeUri "." sam would otherwise copy the whole repo, .local/ (the
# venv, hundreds of MB) included, into a scratch dir once per function. The
# first go build warms Go's cache so the parallel per-function builds do not
# each compile the SDK.
build: venv ## Build every function for Lambda (sam build into .aws-sam/build)
	$(GO_BUILD_ENV) go build $(GO_BUILD_FLAGS) ./functions/...
	$(SAM_ENV) $(SAM) build --build-in-source

##> build-<LogicalId>: Build one function's bootstrap into $(ARTIFACTS_DIR) (sam build and the local runner call it)
define build_function
build-$(1): ARTIFACTS_DIR ?= $(CURDIR)/.local/build/$(1)
build-$(1):
	$$(GO_BUILD_ENV) go build $$(GO_BUILD_FLAGS) -o "$$(ARTIFACTS_DIR)/bootstrap" ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_function,$(call fn_id,$(f)),$(call fn_dir,$(f)))))

GO_FILES = $(shell find . \( -path ./.local -o -path ./.git -o -path ./.aws-sam \) -prune -o -name '*.go' -print)

lint: venv ## gofmt check, go vet, sam validate --lint, cfn-lint
	@unformatted="$$(files='$(GO_FILES)'; [ -z "$$files" ] || gofmt -l $$files)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(SAM_ENV) $(SAM) validate --lint --template-file template.yaml
	$(CFN_LINT) template.yaml

test: venv ## go test ./... against moto on 127.0.0.1:4566 (started and stopped here if not running)
	$(EMULATOR_ENV) ./local/emulator.sh run go test $(GOTESTFLAGS) ./...

dev: venv ## Run the whole stack locally (go run ./local/cmd/runner [RUNNER_FLAGS=...]; it starts moto itself)
	go run ./local/cmd/runner $(RUNNER_FLAGS)

token: ## Print a local JWT: make -s token SITE=demo ROLE=owner EMAIL=owner@demo.example.com [SITE_TZ=Europe/Berlin]
	@mkdir -p $(LOCAL_BIN)
	@go build -o $(LOCAL_BIN)/token ./local/cmd/token
	@$(LOCAL_BIN)/token -site '$(SITE)' -role '$(ROLE)' -email '$(EMAIL)' $(if $(SITE_TZ),-tz '$(SITE_TZ)')

seed: ## Import CSV into SITE through the local API: make seed [CSV=...] [SITE=demo] [API=http://127.0.0.1:3000]
	go run ./local/cmd/seed -csv '$(CSV)' -site '$(SITE)' -api '$(API)'

ses-events: ## Publish the SES fixtures for one contact through the local SNS topic: make ses-events SITE=demo EMAIL=a@b.example [API=...] [EMULATOR=127.0.0.1:4566]
	go run ./local/cmd/ses-events -site '$(SITE)' -email '$(EMAIL)' -api '$(API)' -emulator 'http://$(EMULATOR)' -dir '$(SES_DIR)' $(SES_EVENTS_FLAGS)

bench: ## Run the local benchmarks (local/bench.sh)
	./local/bench.sh

clean: ## Remove build outputs (.aws-sam, .local/build, .local/bin); keeps the venv
	rm -rf .aws-sam .local/build $(LOCAL_BIN)
