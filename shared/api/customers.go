package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// RecordPurchase answers POST /purchases (the checkout, role service):
// 201 for a new purchase, 200 with the first purchase for a retried order.
func RecordPurchase(svc *contacts.Service) Handler {
	return Handler{name: "record-purchase", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in contacts.NewPurchase
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		p, replay, err := svc.RecordPurchase(ctx, caller, in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		status := http.StatusCreated
		if replay {
			status = http.StatusOK
		}
		return httpapi.JSON(status, p, "Location", "/contacts/"+p.ContactID), nil
	}}
}

// RefundPurchase answers POST /purchases/{purchaseId}/refunds.
func RefundPurchase(svc *contacts.Service) Handler {
	return Handler{name: "refund-purchase", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in contacts.NewRefund
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		r, err := svc.Refund(ctx, caller, pathParam(req, "purchaseId"), in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusCreated, r), nil
	}}
}

// GrantOffer answers POST /contacts/{id}/grants.
func GrantOffer(svc *contacts.Service) Handler {
	return Handler{name: "grant-offer", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in contacts.NewGrant
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		p, err := svc.Grant(ctx, caller, pathParam(req, "id"), in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusCreated, p), nil
	}}
}

// EndPurchase answers DELETE /contacts/{id}/purchases/{purchaseId}: it
// revokes a grant or cancels a purchase and answers the kept record.
func EndPurchase(svc *contacts.Service) Handler {
	return Handler{name: "end-purchase", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		p, err := svc.EndPurchase(ctx, caller, pathParam(req, "id"), pathParam(req, "purchaseId"))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, p), nil
	}}
}

// MuteContact answers PUT /contacts/{id}/muted.
func MuteContact(svc *contacts.Service) Handler { return setMuted(svc, "mute-contact", true) }

// UnmuteContact answers DELETE /contacts/{id}/muted.
func UnmuteContact(svc *contacts.Service) Handler { return setMuted(svc, "unmute-contact", false) }

func setMuted(svc *contacts.Service, name string, muted bool) Handler {
	return Handler{name: name, op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		c, err := svc.SetMuted(ctx, caller, pathParam(req, "id"), muted)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, c, "ETag", httpapi.ETag(c.Version)), nil
	}}
}

// activityRecorded is what the member site gets back.
type activityRecorded struct {
	ID             string `json:"id"`
	SignInCount    int64  `json:"signInCount"`
	LastActivityAt any    `json:"lastActivityAt"`
}

// RecordActivity answers POST /contacts/{id}/activity (role service).
func RecordActivity(svc *contacts.Service) Handler {
	return Handler{name: "record-activity", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in contacts.NewActivity
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c, err := svc.RecordActivity(ctx, caller, pathParam(req, "id"), in)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, activityRecorded{ID: c.ID, SignInCount: c.SignInCount, LastActivityAt: c.LastActivityAt}), nil
	}}
}

// ListLifecycle answers GET /contacts/{id}/lifecycle.
func ListLifecycle(svc *contacts.Service) Handler {
	return Handler{name: "list-lifecycle", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		limit, cursor, err := httpapi.Page(req, 20)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		page, err := svc.Lifecycle(ctx, caller, pathParam(req, "id"), contacts.LifecycleQuery{Limit: limit, Cursor: cursor, Type: req.QueryStringParameters["type"]})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, page), nil
	}}
}
