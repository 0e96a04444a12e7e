// Package api holds the HTTP handlers of the contacts operations, one per
// Lambda function. Each reads the caller from the authorizer's claims,
// decodes the request strictly, calls the contacts service and answers JSON
// or problem+json. Bad input is a 4xx response with a nil error; a non-nil
// error is never returned (a panic becomes a logged 500).
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// operation is the body of one handler, given the authenticated caller.
type operation func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler serves one operation as a Lambda handler for HTTP API payload 2.0.
type Handler struct {
	name string
	op   operation
}

// Handle is the Lambda entry point.
func (h Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = httpapi.Error(ctx, apperr.Wrap(fmt.Errorf("panic: %v", r), h.name)), nil
		}
	}()
	caller, err := auth.FromRequest(req)
	if err != nil {
		return httpapi.Error(ctx, err), nil
	}
	resp, err = h.op(ctx, caller, req)
	if err != nil {
		return httpapi.Error(ctx, err), nil
	}
	slog.InfoContext(ctx, "request served", "operation", h.name, "site", caller.Site, "role", string(caller.Role), "status", resp.StatusCode)
	return resp, nil
}

// pathParam returns a path parameter. API Gateway passes them decoded; one
// still percent-encoded (events built by hand, some clients) is decoded here.
func pathParam(req events.APIGatewayV2HTTPRequest, name string) string {
	v := req.PathParameters[name]
	if strings.Contains(v, "%") {
		if d, err := url.PathUnescape(v); err == nil {
			return d
		}
	}
	return v
}

// publicOperation is the body of a handler on a public route (no token):
// the site comes from the path.
type publicOperation func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// PublicHandler serves a public route as a Lambda handler.
type PublicHandler struct {
	name string
	op   publicOperation
}

// Handle is the Lambda entry point.
func (h PublicHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = httpapi.Error(ctx, apperr.Wrap(fmt.Errorf("panic: %v", r), h.name)), nil
		}
	}()
	resp, err = h.op(ctx, req)
	if err != nil {
		return httpapi.Error(ctx, err), nil
	}
	slog.InfoContext(ctx, "request served", "operation", h.name, "status", resp.StatusCode)
	return resp, nil
}
