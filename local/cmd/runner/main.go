// Command runner runs the whole stack from template.yaml on this machine:
// the emulator, every function as a Lambda Runtime API child process, and the
// HTTP API with its JWT authorizer on 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/creator-platform/contacts/local/runner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg runner.Config
	var level slog.Level
	var fresh bool
	flag.StringVar(&cfg.Root, "root", ".", "repository root")
	flag.StringVar(&cfg.Template, "template", "", "SAM template (default <root>/template.yaml)")
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:3000", "gateway address (loopback only)")
	flag.StringVar(&cfg.EmulatorAddr, "emulator", "127.0.0.1:4566", "emulator address (loopback only)")
	flag.BoolVar(&cfg.Persist, "persist", true, "keep emulator state in <root>/.local/moto across restarts")
	flag.BoolVar(&fresh, "fresh", false, "forget the persisted emulator state before starting")
	flag.IntVar(&cfg.QueueVisibilityTimeout, "queue-visibility-timeout", 5,
		"seconds; overrides every queue's VisibilityTimeout locally so failed messages come back (and reach the DLQ) in seconds; 0 keeps the template's")
	flag.IntVar(&cfg.MaxInstances, "max-instances", 4, "concurrent instances per function")
	flag.IntVar(&cfg.BuildJobs, "build-jobs", 2, "function builds at once")
	flag.TextVar(&level, "log-level", slog.LevelInfo, "log level (debug, info, warn, error)")
	flag.Parse()

	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	cfg.Logger = log

	if fresh {
		root, _ := filepath.Abs(cfg.Root)
		if err := os.Remove(filepath.Join(root, ".local", "moto", runner.RecordingFile)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := runner.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, `
contacts running at %s  (%d routes, %d functions)
emulator           %s
openapi            %s/openapi.json
outbox             %s/_local/outbox   (emails sent: to, subject, text, link)
token              TOKEN=$(make -s token SITE=demo ROLE=owner EMAIL=owner@example.com)
                   curl -H "Authorization: Bearer $TOKEN" %s/contacts
Ctrl-C stops everything.

`, r.URL(), r.Routes(), len(r.Functions()), r.EmulatorURL(), r.URL(), r.URL(), r.URL())

	<-ctx.Done()
	stop()
	log.Info("stopping")
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		return fmt.Errorf("shutdown took longer than 15s")
	}
	return nil
}
