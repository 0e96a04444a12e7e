// Command token prints a bearer token the local runner's JWT authorizer
// accepts, signed with .local/jwt/private.pem (created when missing).
//
//	TOKEN=$(make -s token SITE=demo ROLE=owner EMAIL=owner@example.com)
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/creator-platform/contacts/local/runner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func run() error {
	var c runner.TokenClaims
	root := flag.String("root", ".", "repository root")
	key := flag.String("key", "", "signing key (default <root>/.local/jwt/private.pem)")
	flag.StringVar(&c.Site, "site", "demo", "site id")
	flag.StringVar(&c.Role, "role", "owner", "role: owner|admin|assistant|support|service")
	flag.StringVar(&c.Email, "email", "", "email claim")
	flag.StringVar(&c.Subject, "sub", "", "subject (default derived from site and email or role)")
	flag.StringVar(&c.TZ, "tz", "", "IANA time zone of the site (optional)")
	flag.DurationVar(&c.TTL, "ttl", 12*time.Hour, "lifetime")
	flag.Parse()

	switch c.Role {
	case "owner", "admin", "assistant", "support", "service":
	default:
		return fmt.Errorf("unknown role %q", c.Role)
	}
	if c.TZ != "" {
		if _, err := time.LoadLocation(c.TZ); err != nil {
			return fmt.Errorf("time zone %q: %w", c.TZ, err)
		}
	}
	if c.Subject == "" {
		who := c.Email
		if who == "" {
			who = c.Role
		}
		sum := sha256.Sum256([]byte(c.Site + "\x00" + who))
		c.Subject = "local-" + hex.EncodeToString(sum[:8])
	}
	path := *key
	if path == "" {
		path = filepath.Join(*root, ".local", "jwt", "private.pem")
	}
	k, err := runner.LoadOrCreateKey(path)
	if err != nil {
		return err
	}
	tok, err := runner.SignToken(k, c, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
