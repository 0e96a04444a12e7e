package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creator-platform/contacts/shared/contacts"
)

// Status is what became of one row, as the API answered.
type Status string

const (
	Created   Status = "created"   // 201
	Duplicate Status = "duplicate" // 409 email_taken: the address (in any case) is already on the list
	Rejected  Status = "rejected"  // 422: the API refused the values (Fields say which)
	Error     Status = "error"     // anything else, retries exhausted included
)

// FieldError is one entry of a problem+json body's "fields".
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem is the part of an RFC 9457 problem body the loader reads.
type Problem struct {
	Status int          `json:"status"`
	Code   string       `json:"code"`
	Detail string       `json:"detail"`
	Fields []FieldError `json:"fields"`
}

// Result is the outcome of one row.
type Result struct {
	Row        Row
	Status     Status
	ID         string // the new contact's id (Created)
	HTTPStatus int    // the create request's final status; 0 when no answer came
	Code       string // problem code (or transport error text for Error)
	Fields     []FieldError
	Attempts   int // create requests sent
	// NoteAdded is true when the row's note was stored; NoteError says why
	// it was not (the contact itself was created).
	NoteAdded bool
	NoteError string
}

// Reason is the human explanation of a non-created row.
func (r Result) Reason() string {
	switch r.Status {
	case Duplicate:
		s := "already on the list (" + r.Code + ")"
		if r.Attempts > 1 {
			s += "; answered after a retry, so an earlier attempt may have created it"
		}
		return s
	case Rejected:
		if len(r.Fields) == 0 {
			return r.Code
		}
		parts := make([]string, len(r.Fields))
		for i, f := range r.Fields {
			parts[i] = f.Field + ": " + f.Code
		}
		return strings.Join(parts, "; ")
	case Error:
		if r.HTTPStatus == 0 {
			return "no answer: " + r.Code
		}
		return "HTTP " + strconv.Itoa(r.HTTPStatus) + " " + r.Code
	}
	return ""
}

// ErrUnreachable means no HTTP answer could be had from the API at all.
var ErrUnreachable = errors.New("API unreachable")

// Client talks to the contacts API as one caller.
type Client struct {
	BaseURL     string // e.g. http://127.0.0.1:3000
	Token       string // bearer token
	HTTP        *http.Client
	MaxAttempts int           // per request, first try included (default 5)
	Backoff     time.Duration // first retry delay, doubled each time (default 200ms)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Ping checks that something answers HTTP at BaseURL (any status will do).
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+"/openapi.json", nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return nil
}

// answer is a final HTTP answer (after retries) or the transport error.
type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
	err        error
	attempts   int
}

// post sends body as JSON to path, retrying 429, 5xx and transport errors
// up to MaxAttempts times with exponential backoff and jitter (Retry-After
// honoured when it is longer).
func (c *Client) post(ctx context.Context, path string, body any) answer {
	payload, err := json.Marshal(body)
	if err != nil {
		return answer{err: err}
	}
	max := c.MaxAttempts
	if max <= 0 {
		max = 5
	}
	delay := c.Backoff
	if delay <= 0 {
		delay = 200 * time.Millisecond
	}
	var a answer
	for a.attempts = 1; ; a.attempts++ {
		a.status, a.body, a.retryAfter, a.err = c.once(ctx, path, payload)
		retry := a.err != nil || a.status == http.StatusTooManyRequests || a.status >= 500
		if !retry || a.attempts >= max || ctx.Err() != nil {
			return a
		}
		wait := delay/2 + rand.N(delay)
		if a.retryAfter > wait {
			wait = a.retryAfter
		}
		select {
		case <-ctx.Done():
			return a
		case <-time.After(wait):
		}
		delay *= 2
	}
}

func (c *Client) once(ctx context.Context, path string, payload []byte) (status int, body []byte, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, 0, err
	}
	if n, convErr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); convErr == nil && n > 0 {
		retryAfter = min(time.Duration(n)*time.Second, 30*time.Second)
	}
	return resp.StatusCode, body, retryAfter, nil
}

// newContact is the body of POST /contacts (contacts.NewContact's fields
// that an import sets).
type newContact struct {
	Email      string    `json:"email"`
	Name       string    `json:"name,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
	Subscribed bool      `json:"subscribed"`
	Source     string    `json:"source"`
	AddedAt    time.Time `json:"addedAt,omitzero"`
}

// problemOf decodes a problem+json body; a body that is not one leaves
// only the status.
func problemOf(a answer) Problem {
	var p Problem
	_ = json.Unmarshal(a.body, &p)
	if p.Code == "" {
		p.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(a.status), " ", "_"))
	}
	return p
}

// SeedRow creates one row's contact (with its tags) and then its note.
func (c *Client) SeedRow(ctx context.Context, row Row) Result {
	res := Result{Row: row}
	a := c.post(ctx, "/contacts", newContact{
		Email: row.Email, Name: row.Name, Tags: row.Tags,
		Subscribed: row.Subscribed, Source: "import", AddedAt: row.AddedAt,
	})
	res.Attempts, res.HTTPStatus = a.attempts, a.status
	if a.err != nil {
		res.Status, res.Code = Error, a.err.Error()
		return res
	}
	if a.status == http.StatusCreated {
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(a.body, &created); err != nil || created.ID == "" {
			res.Status, res.Code = Error, "201 without a contact id"
			return res
		}
		res.Status, res.ID = Created, created.ID
		if row.Note != "" {
			c.addNote(ctx, &res)
		}
		return res
	}
	p := problemOf(a)
	res.Code, res.Fields = p.Code, p.Fields
	switch {
	case a.status == http.StatusConflict && p.Code == "email_taken":
		res.Status = Duplicate
	case a.status == http.StatusUnprocessableEntity:
		res.Status = Rejected
	default:
		res.Status = Error
	}
	return res
}

func (c *Client) addNote(ctx context.Context, res *Result) {
	a := c.post(ctx, "/contacts/"+url.PathEscape(res.ID)+"/notes", map[string]string{"body": res.Row.Note})
	switch {
	case a.err != nil:
		res.NoteError = "no answer: " + a.err.Error()
	case a.status == http.StatusCreated:
		res.NoteAdded = true
	default:
		p := problemOf(a)
		res.NoteError = "HTTP " + strconv.Itoa(a.status) + " " + p.Code
		for _, f := range p.Fields {
			res.NoteError += " (" + f.Field + ": " + f.Code + ")"
		}
	}
}

// Seed posts every row with at most concurrency requests in flight and
// returns the results in the rows' order.
//
// Rows whose addresses are the same to the API (contacts.NormalizeEmail's
// key: trimmed, NFC, lower-cased) are sent one after another in file
// order, so which of them is created and which are duplicates does not
// depend on timing. Whether a row is a duplicate is still the API's answer.
func (c *Client) Seed(ctx context.Context, rows []Row, concurrency int) []Result {
	if concurrency < 1 {
		concurrency = 1
	}
	var groups [][]int
	byKey := map[string]int{}
	for i, r := range rows {
		_, key := contacts.NormalizeEmail(r.Email)
		if key == "" { // rows without an address are unrelated to each other
			groups = append(groups, []int{i})
			continue
		}
		if g, ok := byKey[key]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		byKey[key] = len(groups)
		groups = append(groups, []int{i})
	}
	results := make([]Result, len(rows))
	jobs := make(chan []int)
	var wg sync.WaitGroup
	for range min(concurrency, max(len(groups), 1)) {
		wg.Go(func() {
			for g := range jobs {
				for _, i := range g {
					results[i] = c.SeedRow(ctx, rows[i])
				}
			}
		})
	}
	for _, g := range groups {
		jobs <- g
	}
	close(jobs)
	wg.Wait()
	return results
}
