// Package httpapi is the HTTP edge shared by every function: strict JSON
// request decoding, JSON and problem+json responses (RFC 9457), the one table
// mapping error kinds to statuses, ETags and pagination parameters.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
)

// MaxBodyBytes bounds every request body. Contacts and notes are small; a
// larger body is refused before it is parsed.
const MaxBodyBytes = 64 << 10

// statuses is the one table mapping an error kind to an HTTP status.
var statuses = map[apperr.Kind]int{
	apperr.Malformed:            http.StatusBadRequest,
	apperr.Unauthorized:         http.StatusUnauthorized,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.Conflict:             http.StatusConflict,
	apperr.PreconditionFailed:   http.StatusPreconditionFailed,
	apperr.TooLarge:             http.StatusRequestEntityTooLarge,
	apperr.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	apperr.Invalid:              http.StatusUnprocessableEntity,
	apperr.RateLimited:          http.StatusTooManyRequests,
	apperr.Internal:             http.StatusInternalServerError,
}

// Status returns the HTTP status for an error kind.
func Status(kind apperr.Kind) int {
	if s, ok := statuses[kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details body with the product's stable code.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Code   string              `json:"code"`
	Detail string              `json:"detail,omitempty"`
	Fields []apperr.FieldError `json:"fields,omitempty"`
}

// Error answers err as problem+json. Internal errors are logged here, once,
// with their cause, and reach the client only as "internal error".
func Error(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind == apperr.Internal {
		slog.ErrorContext(ctx, "request failed", "error", err.Error())
		e = apperr.New(apperr.Internal, "internal", "internal error")
	}
	status := Status(e.Kind)
	p := Problem{
		Type:   "https://docs.contacts.example/problems/" + strings.ReplaceAll(e.Code, "_", "-"),
		Title:  http.StatusText(status),
		Status: status,
		Code:   e.Code,
		Detail: e.Message,
		Fields: e.Fields,
	}
	body, _ := json.Marshal(p)
	if status >= 400 && status < 500 {
		slog.InfoContext(ctx, "request refused", "status", status, "code", e.Code)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"},
		Body:       string(body),
	}
}

// JSON answers v as application/json with the given status and extra headers.
func JSON(status int, v any, headers ...string) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		return Error(context.Background(), apperr.Wrap(err, "encode response"))
	}
	h := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(body)}
}

// NoContent answers 204.
func NoContent() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{"Cache-Control": "no-store"}}
}

// Header returns a request header; API Gateway lower-cases header names in
// payload 2.0, but events built by hand may not.
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Body returns the raw request body, decoding base64 and enforcing MaxBodyBytes.
func Body(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	return BodyUpTo(req, MaxBodyBytes)
}

// MaxSNSBodyBytes bounds an SNS HTTPS delivery: a 256 KiB message, with its
// envelope and JSON escaping.
const MaxSNSBodyBytes = 1 << 20

// BodyUpTo returns the raw request body, decoding base64 and enforcing limit.
func BodyUpTo(req events.APIGatewayV2HTTPRequest, limit int) ([]byte, error) {
	tooLarge := apperr.New(apperr.TooLarge, "body_too_large", "the body is larger than "+strconv.Itoa(limit)+" bytes")
	if len(req.Body) > base64.StdEncoding.EncodedLen(limit) {
		return nil, tooLarge
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, apperr.New(apperr.Malformed, "malformed_body", "the body is not valid base64")
		}
		body = decoded
	}
	if len(body) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// Decode reads a JSON request body into dst strictly: the content type must
// be JSON, the body at most MaxBodyBytes, one value, no unknown fields.
func Decode(req events.APIGatewayV2HTTPRequest, dst any) error {
	body, err := Body(req)
	if err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(Header(req, "Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apperr.New(apperr.UnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
	}
	if !utf8.Valid(body) {
		return apperr.New(apperr.Malformed, "malformed_json", "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.New(apperr.Malformed, "malformed_json", "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax):
		return apperr.New(apperr.Malformed, "malformed_json", "the body is not valid JSON")
	case errors.As(err, &typ):
		e := apperr.New(apperr.Malformed, "wrong_type", "a field has the wrong JSON type")
		e.Fields = []apperr.FieldError{{Field: typ.Field, Code: "wrong_type", Message: "expected " + typ.Type.String()}}
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := apperr.New(apperr.Malformed, "unknown_field", "the body has a field this operation does not take")
		e.Fields = []apperr.FieldError{{Field: field, Code: "unknown_field", Message: "not a field of this request"}}
		return e
	default:
		return apperr.New(apperr.Malformed, "malformed_json", "the body is not valid JSON")
	}
}

// ETag formats a version as a strong entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch parses the If-Match header. It returns nil when the header is
// absent or "*", and a malformed error when it names no version we issued.
func IfMatch(req events.APIGatewayV2HTTPRequest) (*int64, error) {
	h := strings.TrimSpace(Header(req, "If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 1 || !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) {
		return nil, apperr.New(apperr.Malformed, "invalid_if_match", `If-Match must be an ETag returned by this API, like "3"`)
	}
	return &v, nil
}

// Page reads the limit and cursor query parameters (limit 1..100).
func Page(req events.APIGatewayV2HTTPRequest, defaultLimit int) (limit int, cursor string, err error) {
	limit = defaultLimit
	if s := req.QueryStringParameters["limit"]; s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > 100 {
			return 0, "", apperr.Validation(apperr.FieldError{Field: "limit", Code: "out_of_range", Message: "limit must be a whole number from 1 to 100"})
		}
		limit = n
	}
	return limit, req.QueryStringParameters["cursor"], nil
}
