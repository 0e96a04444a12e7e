package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// newNote is the body of POST /contacts/{id}/notes.
type newNote struct {
	Body string `json:"body"`
}

// AddNote answers POST /contacts/{id}/notes.
func AddNote(svc *contacts.Service) Handler {
	return Handler{name: "add-note", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in newNote
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		id := pathParam(req, "id")
		n, err := svc.AddNote(ctx, caller, id, in.Body)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusCreated, n, "Location", "/contacts/"+id+"/notes/"+n.ID), nil
	}}
}

// ListNotes answers GET /contacts/{id}/notes.
func ListNotes(svc *contacts.Service) Handler {
	return Handler{name: "list-notes", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		limit, cursor, err := httpapi.Page(req, 25)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		page, err := svc.ListNotes(ctx, caller, pathParam(req, "id"), limit, cursor)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, page), nil
	}}
}

// DeleteNote answers DELETE /contacts/{id}/notes/{noteId}.
func DeleteNote(svc *contacts.Service) Handler {
	return Handler{name: "delete-note", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if err := svc.DeleteNote(ctx, caller, pathParam(req, "id"), pathParam(req, "noteId")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.NoContent(), nil
	}}
}
