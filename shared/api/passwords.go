package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

// SendPasswordReset answers POST /contacts/{id}/password-reset: 202, the
// link is on its way.
func SendPasswordReset(p *contacts.Passwords) Handler {
	return Handler{name: "send-password-reset", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if err := p.SendReset(ctx, caller, pathParam(req, "id")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusAccepted, map[string]string{"status": "sent"}), nil
	}}
}

// newPassword is the body of PUT /contacts/{id}/password.
type newPassword struct {
	Password string `json:"password"`
}

// ChangePassword answers PUT /contacts/{id}/password: 204.
func ChangePassword(p *contacts.Passwords) Handler {
	return Handler{name: "change-password", op: func(ctx context.Context, caller auth.Caller, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in newPassword
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if err := p.ChangePassword(ctx, caller, pathParam(req, "id"), in.Password); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.NoContent(), nil
	}}
}

// resetCompletion is the body of POST /sites/{site}/password-reset.
type resetCompletion struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// CompletePasswordReset answers the public POST /sites/{site}/password-reset:
// 204, or one same 400 for every unknown, used or expired token.
func CompletePasswordReset(p *contacts.Passwords) PublicHandler {
	return PublicHandler{name: "complete-password-reset", op: func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in resetCompletion
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if err := p.CompleteReset(ctx, pathParam(req, "site"), in.Token, in.Password); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.NoContent(), nil
	}}
}

// signIn is the body of POST /sites/{site}/sign-in.
type signIn struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signedIn is what a successful sign-in answers.
type signedIn struct {
	ContactID      string `json:"contactId"`
	SignInCount    int64  `json:"signInCount"`
	LastActivityAt any    `json:"lastActivityAt"`
}

// SignIn answers the public POST /sites/{site}/sign-in: 200, the same 401
// for an unknown email and a wrong password, 429 with Retry-After when the
// site+email or the source address failed too often.
func SignIn(p *contacts.Passwords) PublicHandler {
	return PublicHandler{name: "sign-in", op: func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var in signIn
		if err := httpapi.Decode(req, &in); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c, err := p.SignIn(ctx, pathParam(req, "site"), in.Email, in.Password, req.RequestContext.HTTP.SourceIP)
		var limited *contacts.RateLimitedError
		if errors.As(err, &limited) {
			resp := httpapi.Error(ctx, apperr.New(apperr.RateLimited, "rate_limited", "too many failed sign-ins; try again later"))
			resp.Headers["Retry-After"] = strconv.Itoa(int(limited.RetryAfter.Seconds()))
			return resp, nil
		}
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, signedIn{ContactID: c.ID, SignInCount: c.SignInCount, LastActivityAt: c.LastActivityAt}), nil
	}}
}
