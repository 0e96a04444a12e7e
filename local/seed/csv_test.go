package seed

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const exportName = "contacts-mailchimp-export.csv"

// realExport finds ../shared/data/contacts-mailchimp-export.csv beside the
// repo (shared/data in some directory above the test's working directory)
// and reads it, or skips the test when it is not there.
func realExport(t *testing.T) []Row {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", exportName)
		if f, err := os.Open(p); err == nil {
			defer f.Close()
			rows, err := ReadCSV(f)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			return rows
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/data/%s not found in any directory above %s (it lives beside the repo, ../shared/data); skipping the real-file test", exportName, mustWd(t))
		}
		dir = parent
	}
}

func mustWd(t *testing.T) string {
	wd, _ := os.Getwd()
	return wd
}

func byEmail(rows []Row, email string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Email == email {
			out = append(out, r)
		}
	}
	return out
}

func TestReadRealExport(t *testing.T) {
	rows := realExport(t)
	if len(rows) != 295 {
		t.Errorf("rows = %d, want 295", len(rows))
	}
	if rows[0].Line != 2 || rows[len(rows)-1].Line != 296 {
		t.Errorf("lines run %d..%d, want 2..296", rows[0].Line, rows[len(rows)-1].Line)
	}

	// The Ada pair: the same address in two cases, on two lines.
	upper, lower := byEmail(rows, "Ada.Lovelace@Example.com"), byEmail(rows, "ada.lovelace@example.com")
	if len(upper) != 1 || len(lower) != 1 {
		t.Fatalf("Ada rows: %d mixed-case, %d lower-case; want 1 and 1", len(upper), len(lower))
	}
	ada := upper[0]
	if ada.Line != 152 || ada.Name != "Ada Lovelace" || !slices.Equal(ada.Tags, []string{"vip"}) ||
		ada.Note != "mixed case; duplicate of next row" || !ada.Subscribed ||
		!ada.AddedAt.Equal(time.Date(2025, 3, 14, 9, 12, 31, 0, time.UTC)) {
		t.Errorf("Ada (mixed case) = %+v", ada)
	}
	if lower[0].Line != 284 || !slices.Equal(lower[0].Tags, []string{"buyers"}) {
		t.Errorf("Ada (lower case) = %+v", lower[0])
	}

	// Several quoted tags in one cell.
	edsger := byEmail(rows, "edsger.sharma209@mail.example.com")
	if len(edsger) != 1 || !slices.Equal(edsger[0].Tags, []string{"vip", "webinar-2026", "podcast"}) {
		t.Errorf("edsger tags = %+v", edsger)
	}
	if r := byEmail(rows, "ken.stroustrup97@example.net"); len(r) != 1 || r[0].Tags != nil || r[0].Note != "" {
		t.Errorf("row without tags or notes = %+v", r)
	}

	// A comma inside a quoted first name.
	mae := byEmail(rows, "mae.jr@example.com")
	if len(mae) != 1 || mae[0].Name != "Mae, Jr O'Brien" || mae[0].Note != "comma inside quoted name" {
		t.Errorf("comma row = %+v", mae)
	}

	// A tab inside a field is kept; the API turns it into a space.
	tabs := byEmail(rows, "tabs@example.com")
	if len(tabs) != 1 || tabs[0].Name != "Tab\tSeparated Name" {
		t.Errorf("tab row = %+v", tabs)
	}

	// The spreadsheet formula is plain text with its quotes undoubled.
	formula := byEmail(rows, "formula@example.com")
	if len(formula) != 1 || formula[0].Name != `=HYPERLINK("http://x.example") Injection` {
		t.Errorf("formula row = %+v", formula)
	}

	// Addresses are passed on as written (the API trims them).
	if r := byEmail(rows, "  grace+newsletter@example.org "); len(r) != 1 {
		t.Errorf("plus-addressing row with spaces not read verbatim")
	}
	// No address, and not an address: still rows (the API rejects them).
	for _, e := range []string{"", "not-an-email"} {
		if r := byEmail(rows, e); len(r) != 1 || r[0].Subscribed || !r[0].AddedAt.IsZero() {
			t.Errorf("row %q = %+v, want one unsubscribed row without addedAt", e, r)
		}
	}
	long := byEmail(rows, "long.name@example.com")
	if len(long) != 1 || len([]rune(long[0].Name)) != 302 {
		t.Errorf("long-name row = %+v", long)
	}
}

func TestReadCSVHeaderByNameAndBOM(t *testing.T) {
	in := "\uFEFFNOTES,TAGS,Last Name,OPTIN_TIME,Email Address,First Name,CONFIRM_TIME,EXTRA\r\n" +
		`hello,"""a"", ""b c""",Doe,2025-01-02 03:04:05,jane@example.com, Jane ,,x` + "\r\n" +
		`,,,,"multi` + "\n" + `line@example.com",,2025-01-01 00:00:00,` + "\r\n" +
		`,,,not a time,bad-time@example.com,,,` + "\r\n"
	rows, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want 3", len(rows))
	}
	want := Row{Line: 2, Email: "jane@example.com", Name: "Jane Doe", Tags: []string{"a", "b c"}, Note: "hello",
		Subscribed: true, AddedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if got := rows[0]; got.Line != want.Line || got.Email != want.Email || got.Name != want.Name ||
		!slices.Equal(got.Tags, want.Tags) || got.Note != want.Note || !got.Subscribed || !got.AddedAt.Equal(want.AddedAt) {
		t.Errorf("row 1 = %+v, want %+v", got, want)
	}
	// CONFIRM_TIME alone subscribes; no OPTIN_TIME means no addedAt.
	if got := rows[1]; got.Line != 3 || got.Email != "multi\nline@example.com" || !got.Subscribed || !got.AddedAt.IsZero() || got.Name != "" {
		t.Errorf("row 2 = %+v", got)
	}
	// An unreadable OPTIN_TIME is omitted, but it is still set: subscribed.
	if got := rows[2]; got.Line != 5 || !got.AddedAt.IsZero() || !got.Subscribed {
		t.Errorf("row 3 = %+v", got)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"no email":    "First Name,Last Name\nA,B\n",
		"bare quote":  "Email Address,First Name\na@example.com,Jo\"e\n",
		"field count": "Email Address,First Name\na@example.com,Jo,extra\n",
	} {
		if _, err := ReadCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := ReadCSV(strings.NewReader("Email Address,First Name\na@example.com,A\nb@example.com,\"B\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("unterminated quote: err = %v, want one naming line 3", err)
	}
}

func TestParseTags(t *testing.T) {
	for in, want := range map[string][]string{
		``:                            nil,
		`   `:                         nil,
		`"vip"`:                       {"vip"},
		`"vip","webinar-2026"`:        {"vip", "webinar-2026"},
		`"vip", "two words"`:          {"vip", "two words"},
		`"say ""hi""","x"`:            {`say "hi"`, "x"},
		`"a,b","c"`:                   {"a,b", "c"},
		`vip,lead`:                    {"vip", "lead"},
		`"vip",,""`:                   {"vip"},
		`"broken,"lead"`:              {`"broken`, `"lead"`},
		`"vip","webinar-2026","lead"`: {"vip", "webinar-2026", "lead"},
	} {
		if got := ParseTags(in); !slices.Equal(got, want) {
			t.Errorf("ParseTags(%q) = %q, want %q", in, got, want)
		}
	}
}
