package contacts

import (
	"testing"
	"time"
)

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ada@example.com", true},
		{"grace+newsletter@example.org", true},
		{"османов@письмо.example", true},
		{"max@möstermann.example", true},
		{"Ada.Lovelace@Example.com", true},
		{"not-an-email", false},
		{"", false},
		{"ada@localhost", false},
		{"Ada <ada@example.com>", false},
		{"ada @example.com", false},
		{"ada@example..com", false},
		{"a@b.c\n", false},
		{"zw\u200b@example.com", false},  // zero-width space
		{"\ufeffbom@example.com", false}, // byte-order mark
		{"soft\u00adhyphen@example.com", false},
		{"rtl\u202e@example.com", false}, // direction override
		{"bad\ufffd@example.com", false}, // what undecodable input becomes
		{"a@[127.0.0.1]", false},
	}
	for _, tt := range tests {
		if got := ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeEmailKeepsDisplayAndFoldsKey(t *testing.T) {
	display, key := NormalizeEmail("  Grace+News@Example.ORG ")
	if display != "Grace+News@Example.ORG" || key != "grace+news@example.org" {
		t.Fatalf("got %q %q", display, key)
	}
	_, k1 := NormalizeEmail("Ada.Lovelace@Example.com")
	_, k2 := NormalizeEmail("ada.lovelace@example.com")
	if k1 != k2 {
		t.Fatalf("case variants must share a key: %q %q", k1, k2)
	}
	display, wide := NormalizeEmail("ａｂｃ@example.com")
	if wide != "abc@example.com" || display != "ａｂｃ@example.com" {
		t.Fatalf("full-width letters: key %q display %q", wide, display)
	}
}

func TestCleanText(t *testing.T) {
	if got := CleanText("  Tab\tSeparated \n Name "); got != "Tab Separated Name" {
		t.Fatalf("got %q", got)
	}
	if got := CleanText(`=HYPERLINK("x")`); got != `=HYPERLINK("x")` {
		t.Fatalf("formula text must be kept as text, got %q", got)
	}
}

func TestLifespanDaysCountsCalendarDaysInSiteZone(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	start := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC) // 23:00 in Tokyo, Mar 1
	now := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)   // 01:00 in Tokyo, Mar 2
	if got := LifespanDays(start, now, tokyo); got != 1 {
		t.Fatalf("Tokyo: got %d days, want 1", got)
	}
	if got := LifespanDays(start, now, time.UTC); got != 0 {
		t.Fatalf("UTC: got %d days, want 0", got)
	}
	if got := LifespanDays(now, start, time.UTC); got != 0 {
		t.Fatalf("a start in the future counts as 0, got %d", got)
	}
}
