package seed

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Summary counts the results of a run.
type Summary struct {
	Rows, Created, Duplicates, Rejected, Errors int
	NotesAdded, NotesFailed                     int
	// RejectedBy counts rejected rows by reason ("email: invalid_email").
	RejectedBy map[string]int
	// Unreachable counts rows that got no HTTP answer at all (after retries).
	Unreachable int
	// Unauthorized counts rows answered 401 or 403.
	Unauthorized int
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Rows: len(results), RejectedBy: map[string]int{}}
	for _, r := range results {
		switch r.Status {
		case Created:
			s.Created++
		case Duplicate:
			s.Duplicates++
		case Rejected:
			s.Rejected++
			s.RejectedBy[r.Reason()]++
		default:
			s.Errors++
			if r.HTTPStatus == 0 {
				s.Unreachable++
			}
			if r.HTTPStatus == http.StatusUnauthorized || r.HTTPStatus == http.StatusForbidden {
				s.Unauthorized++
			}
		}
		if r.NoteAdded {
			s.NotesAdded++
		}
		if r.NoteError != "" {
			s.NotesFailed++
		}
	}
	return s
}

// Failed reports whether the run should exit non-zero: some row (or note)
// could not be loaded for a reason other than its data.
func (s Summary) Failed() bool { return s.Errors > 0 || s.NotesFailed > 0 }

// WriteReport writes one line per row that was not simply created (in file
// order), then the summary.
func WriteReport(w io.Writer, results []Result, elapsed time.Duration) Summary {
	for _, r := range results {
		switch r.Status {
		case Duplicate, Rejected, Error:
			fmt.Fprintf(w, "line %d: %-9s %q: %s\n", r.Row.Line, r.Status, r.Row.Email, r.Reason())
		}
		if r.NoteError != "" {
			fmt.Fprintf(w, "line %d: %-9s %q: created, but its note was not added: %s\n", r.Row.Line, "note", r.Row.Email, r.NoteError)
		}
	}
	s := Summarize(results)
	fmt.Fprintf(w, "\nrows read:   %d\n", s.Rows)
	fmt.Fprintf(w, "created:     %d\n", s.Created)
	fmt.Fprintf(w, "duplicates:  %d\n", s.Duplicates)
	fmt.Fprintf(w, "rejected:    %d\n", s.Rejected)
	reasons := make([]string, 0, len(s.RejectedBy))
	for k := range s.RejectedBy {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Fprintf(w, "  %-32s %d\n", k, s.RejectedBy[k])
	}
	fmt.Fprintf(w, "errors:      %d\n", s.Errors)
	fmt.Fprintf(w, "notes added: %d", s.NotesAdded)
	if s.NotesFailed > 0 {
		fmt.Fprintf(w, " (%d failed)", s.NotesFailed)
	}
	fmt.Fprintln(w)
	rate := 0.0
	if secs := elapsed.Seconds(); secs > 0 {
		rate = float64(s.Rows) / secs
	}
	fmt.Fprintf(w, "elapsed:     %s (%.1f rows/s)\n", elapsed.Round(time.Millisecond), rate)
	if s.Unauthorized > 0 {
		fmt.Fprintln(w, strings.TrimSpace(`
hint: the API refused the token. Is the runner using the same signing key
(-key, default .local/jwt/private.pem under the repo root)?`))
	}
	return s
}
