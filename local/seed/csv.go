// Package seed loads a Mailchimp audience export into a site through the
// contacts API: it reads the CSV into rows, posts each row as a contact (and
// its note), and classifies every row from the API's answer.
package seed

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Mailchimp export column names this loader reads. Columns are found by
// name, so their order and any extra columns do not matter.
const (
	ColEmail       = "Email Address"
	ColFirstName   = "First Name"
	ColLastName    = "Last Name"
	ColOptinTime   = "OPTIN_TIME"
	ColConfirmTime = "CONFIRM_TIME"
	ColNotes       = "NOTES"
	ColTags        = "TAGS"
)

// TimeLayout is how Mailchimp writes OPTIN_TIME and CONFIRM_TIME (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// Row is one contact of the export, as it will be sent to the API. Values
// are passed on as read: the API trims, cleans and validates them.
type Row struct {
	Line       int // line of the CSV file the record starts on (header is line 1)
	Email      string
	Name       string
	Tags       []string
	Note       string
	Subscribed bool
	AddedAt    time.Time // zero when OPTIN_TIME is empty or unreadable
}

// ReadCSV reads a Mailchimp export. A UTF-8 byte order mark is skipped.
// Quotes are strict (LazyQuotes off) and every record must have as many
// fields as the header: a malformed file is an error naming the line,
// rather than rows silently shifted into the wrong columns.
func ReadCSV(r io.Reader) ([]Row, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the CSV is empty (no header line)")
	}
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	cols := map[string]int{}
	for i, name := range header {
		key := strings.ToLower(strings.TrimSpace(name))
		if _, dup := cols[key]; !dup {
			cols[key] = i
		}
	}
	if _, ok := cols[strings.ToLower(ColEmail)]; !ok {
		return nil, fmt.Errorf("CSV header has no %q column (is this a Mailchimp export?)", ColEmail)
	}
	get := func(rec []string, col string) string {
		if i, ok := cols[strings.ToLower(col)]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		optin := strings.TrimSpace(get(rec, ColOptinTime))
		confirm := strings.TrimSpace(get(rec, ColConfirmTime))
		row := Row{
			Line:       line,
			Email:      get(rec, ColEmail),
			Name:       strings.TrimSpace(strings.TrimSpace(get(rec, ColFirstName)) + " " + strings.TrimSpace(get(rec, ColLastName))),
			Tags:       ParseTags(get(rec, ColTags)),
			Note:       strings.TrimSpace(get(rec, ColNotes)),
			Subscribed: optin != "" || confirm != "",
		}
		if t, err := time.ParseInLocation(TimeLayout, optin, time.UTC); err == nil {
			row.AddedAt = t
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ParseTags reads Mailchimp's TAGS cell: comma-separated tags, each in
// double quotes (`"vip","webinar-2026"`), a quote inside a tag doubled. A
// cell that is not in that form is split on commas. Empty tags are dropped;
// tags are otherwise passed on as written (the API normalizes and checks
// them).
func ParseTags(cell string) []string {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return nil
	}
	r := csv.NewReader(strings.NewReader(cell))
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	if err != nil {
		fields = strings.Split(cell, ",")
	}
	var tags []string
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			tags = append(tags, f)
		}
	}
	return tags
}
