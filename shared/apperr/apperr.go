// Package apperr is the product's one error vocabulary. Domain and store code
// return *Error values carrying a Kind (which the HTTP edge maps to a status)
// and a stable, machine-readable Code that clients may switch on.
package apperr

import (
	"errors"
	"fmt"
)

// Kind says what sort of failure an error is. The httpapi package holds the
// only table that maps a Kind to an HTTP status.
type Kind string

const (
	Malformed            Kind = "malformed"              // 400: the request cannot be read
	Unauthorized         Kind = "unauthorized"           // 401: no or bad credentials
	Forbidden            Kind = "forbidden"              // 403: the caller's role may not do this
	NotFound             Kind = "not_found"              // 404: missing, or another site's
	Conflict             Kind = "conflict"               // 409: clashes with the stored state
	PreconditionFailed   Kind = "precondition_failed"    // 412: stale If-Match
	TooLarge             Kind = "too_large"              // 413: body over the limit
	UnsupportedMediaType Kind = "unsupported_media_type" // 415: not JSON
	Invalid              Kind = "invalid"                // 422: readable but invalid values
	RateLimited          Kind = "rate_limited"           // 429
	Internal             Kind = "internal"               // 500: a bug or an outage, never bad input
)

// FieldError names one offending field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is an application error. Code is stable (clients switch on it);
// Message is for people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
	Err     error // the cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind and code.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Wrap returns an internal error that keeps its cause for the logs.
func Wrap(err error, message string) *Error {
	return &Error{Kind: Internal, Code: "internal", Message: message, Err: err}
}

// Validation returns a 422 error listing the offending fields.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Code: "validation_failed", Message: "some fields are invalid", Fields: fields}
}

// KindOf returns the kind of err, Internal for errors that are not *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the code of err, "internal" for errors that are not *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal"
}

// Common errors shared by several operations.
var (
	ErrContactNotFound = New(NotFound, "contact_not_found", "no such contact")
	ErrNoteNotFound    = New(NotFound, "note_not_found", "no such note")
	ErrEmailTaken      = New(Conflict, "email_taken", "another contact on this site already has this email address")
	ErrVersionMismatch = New(PreconditionFailed, "version_mismatch", "the contact changed since it was read; fetch it again")
	ErrInvalidCursor   = New(Malformed, "invalid_cursor", "the cursor is not valid for this list")
)
