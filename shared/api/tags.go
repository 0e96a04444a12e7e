package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// AddTag answers PUT /contacts/{id}/tags/{tag}; tagging twice is harmless.
func AddTag(svc *contacts.Service) Handler { return tag(svc, "add-tag", true) }

// RemoveTag answers DELETE /contacts/{id}/tags/{tag}.
func RemoveTag(svc *contacts.Service) Handler { return tag(svc, "remove-tag", false) }

func tag(svc *contacts.Service, name string, add bool) Handler {
	return Handler{name: name, op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		c, err := svc.Tag(ctx, caller, pathParam(req, "id"), pathParam(req, "tag"), add)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, c, "ETag", httpapi.ETag(c.Version)), nil
	}}
}

// ListTags answers GET /tags: the site's tags with counts.
func ListTags(svc *contacts.Service) Handler {
	return Handler{name: "list-tags", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		tags, err := svc.Tags(ctx, caller)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, map[string]any{"items": tags}), nil
	}}
}
