// Command seed loads a Mailchimp audience export into a site through the
// running local API (`make dev`), as the site's owner:
//
//	make seed [CSV=...] [SITE=demo] [API=http://127.0.0.1:3000]
//	go run ./local/cmd/seed -csv ../shared/data/contacts-mailchimp-export.csv
//
// Every row is one POST /contacts (tags included), then POST
// /contacts/{id}/notes when the row has NOTES. Rows are classified from the
// API's answers: created, duplicate (409 email_taken), rejected (422, with
// the fields), error (anything else). Running it again is harmless: the
// rows already loaded come back as duplicates.
//
// Exit status: 0 when every row was created, a duplicate or rejected;
// 1 when some row or note hit an error; 2 when the API is unreachable or the
// input cannot be read.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/creator-platform/contacts/local/runner"
	"github.com/creator-platform/contacts/local/seed"
)

const hint = "is `make dev` running?"

func main() {
	os.Exit(run())
}

func run() int {
	csvPath := flag.String("csv", "../shared/data/contacts-mailchimp-export.csv", "Mailchimp export to load")
	api := flag.String("api", "http://127.0.0.1:3000", "base URL of the contacts API")
	site := flag.String("site", "demo", "site to load the contacts into")
	concurrency := flag.Int("concurrency", 4, "requests in flight at most")
	keyPath := flag.String("key", ".local/jwt/private.pem", "the runner's JWT signing key")
	email := flag.String("email", "", "email claim of the owner token (default owner@<site>.example.com)")
	flag.Parse()
	if *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "seed: -concurrency must be at least 1")
		return 2
	}
	if *email == "" {
		*email = "owner@" + *site + ".example.com"
	}

	f, err := os.Open(*csvPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 2
	}
	rows, err := seed.ReadCSV(f)
	_ = f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "seed: %s: %v\n", *csvPath, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	client := &seed.Client{
		BaseURL: *api,
		HTTP: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: *concurrency, IdleConnTimeout: 30 * time.Second},
		},
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = client.Ping(pingCtx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "seed: cannot reach the API at %s (%v)\nhint: %s\n", *api, err, hint)
		return 2
	}

	key, err := runner.LoadOrCreateKey(*keyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 2
	}
	sum := sha256.Sum256([]byte(*site + "\x00" + *email))
	client.Token, err = runner.SignToken(key, runner.TokenClaims{
		Subject: "local-" + hex.EncodeToString(sum[:8]), // as `make token` derives it
		Email:   *email,
		Site:    *site,
		Role:    "owner",
		TTL:     time.Hour,
	}, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed: sign token:", err)
		return 2
	}

	fmt.Printf("seeding %d rows from %s into site %q at %s (concurrency %d)\n", len(rows), *csvPath, *site, *api, *concurrency)
	start := time.Now()
	results := client.Seed(ctx, rows, *concurrency)
	s := seed.WriteReport(os.Stdout, results, time.Since(start))
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		fmt.Fprintln(os.Stderr, "seed: interrupted")
		return 1
	case s.Rows > 0 && s.Unreachable == s.Rows:
		fmt.Fprintf(os.Stderr, "seed: the API at %s stopped answering; %s\n", *api, hint)
		return 2
	case s.Unreachable > 0:
		fmt.Fprintf(os.Stderr, "seed: %d rows got no answer from the API; %s\n", s.Unreachable, hint)
		return 1
	case s.Failed():
		return 1
	}
	return 0
}
