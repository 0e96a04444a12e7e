package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// CreateContact answers POST /contacts.
func CreateContact(svc *contacts.Service) Handler {
	return Handler{name: "create-contact", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in contacts.NewContact
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c, err := svc.Create(ctx, caller, in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusCreated, c, "Location", "/contacts/"+c.ID, "ETag", httpapi.ETag(c.Version)), nil
	}}
}

// ListContacts answers GET /contacts.
func ListContacts(svc *contacts.Service) Handler {
	return Handler{name: "list-contacts", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		limit, cursor, err := httpapi.Page(req, 25)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		q := contacts.ListQuery{Limit: limit, Cursor: cursor, Tag: req.QueryStringParameters["tag"], Search: req.QueryStringParameters["q"]}
		switch req.QueryStringParameters["hidden"] {
		case "", "false":
		case "true":
			q.IncludeHidden = true
		default:
			return events.APIGatewayV2HTTPResponse{}, apperr.Validation(apperr.FieldError{Field: "hidden", Code: "invalid_boolean", Message: "hidden is true or false"})
		}
		q.Kind = contacts.Kind(req.QueryStringParameters["kind"])
		if s := req.QueryStringParameters["activeWithinDays"]; s != "" {
			days, convErr := strconv.Atoi(s)
			if convErr != nil || days < 1 || days > 3650 {
				return events.APIGatewayV2HTTPResponse{}, apperr.Validation(apperr.FieldError{Field: "activeWithinDays", Code: "out_of_range", Message: "activeWithinDays is a whole number of days from 1 to 3650"})
			}
			q.ActiveSince = svc.Now().Add(-time.Duration(days) * 24 * time.Hour)
		}
		page, err := svc.List(ctx, caller, q)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, page), nil
	}}
}

// GetContact answers GET /contacts/{id}: the full profile.
func GetContact(svc *contacts.Service) Handler {
	return Handler{name: "get-contact", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		p, err := svc.Profile(ctx, caller, pathParam(req, "id"))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, p, "ETag", httpapi.ETag(p.Version)), nil
	}}
}

// UpdateContact answers PATCH /contacts/{id}.
func UpdateContact(svc *contacts.Service) Handler {
	return Handler{name: "update-contact", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ifMatch, err := httpapi.IfMatch(req)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		var patch contacts.ContactPatch
		if err := httpapi.Decode(req, &patch); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c, err := svc.Update(ctx, caller, pathParam(req, "id"), patch, ifMatch)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, c, "ETag", httpapi.ETag(c.Version)), nil
	}}
}

// DeleteContact answers DELETE /contacts/{id}.
func DeleteContact(svc *contacts.Service) Handler {
	return Handler{name: "delete-contact", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if err := svc.Delete(ctx, caller, pathParam(req, "id")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.NoContent(), nil
	}}
}

// HideContact answers PUT /contacts/{id}/hidden.
func HideContact(svc *contacts.Service) Handler { return setHidden(svc, "hide-contact", true) }

// UnhideContact answers DELETE /contacts/{id}/hidden.
func UnhideContact(svc *contacts.Service) Handler { return setHidden(svc, "unhide-contact", false) }

func setHidden(svc *contacts.Service, name string, hidden bool) Handler {
	return Handler{name: name, op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		c, err := svc.SetHidden(ctx, caller, pathParam(req, "id"), hidden)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, c, "ETag", httpapi.ETag(c.Version)), nil
	}}
}
