package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

const fixturesDir = "../../../../shared/data/ses"

// TestRewriteAddressesTheContact: every published fixture names only the
// contact's address, carries the site and contact tags, gets the run's
// message id suffix and newer times; the envelope is unwrapped and the
// subscription confirmation skipped.
func TestRewriteAddressesTheContact(t *testing.T) {
	if _, err := os.Stat(fixturesDir); err != nil {
		t.Skip("SES fixtures not found beside the repo")
	}
	fixtures, err := loadFixtures(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	rw := rewriter{site: "demo", email: "ann@example.com", contactID: "01CONTACT", suffix: "run1", shift: 24 * time.Hour}
	published, skipped := 0, 0
	for _, f := range fixtures {
		if f.skip != "" {
			skipped++
			if !strings.Contains(f.name, "subscription-confirmation") {
				t.Errorf("%s skipped: %s", f.name, f.skip)
			}
			continue
		}
		published++
		orig, _ := json.Marshal(f.doc)
		m := rw.rewrite(f.doc)
		b, _ := json.Marshal(m)
		s := string(b)
		if after, _ := json.Marshal(f.doc); string(after) != string(orig) {
			t.Errorf("%s: rewrite changed the fixture itself", f.name)
		}
		for _, other := range []string{"simulator.amazonses.com", "gone1@", "Gone2@", "CONTACT_ID"} {
			if strings.Contains(s, other) {
				t.Errorf("%s: still names %q: %s", f.name, other, s)
			}
		}
		mail := m["mail"].(map[string]any)
		tags := mail["tags"].(map[string]any)
		if tags["site"].([]any)[0] != "demo" || tags["contact"].([]any)[0] != "01CONTACT" {
			t.Errorf("%s: tags = %v", f.name, tags)
		}
		if d := mail["destination"].([]any); len(d) != 1 || d[0] != "ann@example.com" {
			t.Errorf("%s: destination = %v", f.name, d)
		}
		if !strings.HasSuffix(mail["messageId"].(string), "-run1") {
			t.Errorf("%s: messageId = %v, want the run suffix", f.name, mail["messageId"])
		}
		if ts, ok := mail["timestamp"].(string); ok {
			if o, err := time.Parse(time.RFC3339, f.doc["mail"].(map[string]any)["timestamp"].(string)); err == nil {
				if n, _ := time.Parse(time.RFC3339, ts); !n.Equal(o.Add(24 * time.Hour)) {
					t.Errorf("%s: timestamp %s, want %s shifted by a day", f.name, ts, o)
				}
			}
		}
		if f.name == "sns-envelope-bounce.json" && m["eventType"] != "Bounce" {
			t.Errorf("envelope not unwrapped: %v", m)
		}
	}
	if skipped != 1 || published < 14 {
		t.Errorf("published %d, skipped %d; want every fixture but the confirmation", published, skipped)
	}
}
