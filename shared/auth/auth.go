// Package auth turns the claims the API Gateway JWT authorizer verified into
// a Caller, and holds the product's one permission matrix.
package auth

import (
	"slices"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image has no zoneinfo

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/apperr"
)

// Role is what an account user (or a server) may do on a site.
type Role string

const (
	Owner     Role = "owner"
	Admin     Role = "admin"
	Assistant Role = "assistant" // no financial data
	Support   Role = "support"   // manages people: no deletes, grants or revenue
	Service   Role = "service"   // server to server: purchases, sign-ins, activity
)

// Roles lists every role, in order of trust.
var Roles = []Role{Owner, Admin, Assistant, Support, Service}

// Action is one thing a caller may be allowed to do.
type Action string

const (
	ReadContacts   Action = "contacts:read"
	CreateContacts Action = "contacts:create"
	EditContacts   Action = "contacts:edit"
	DeleteContacts Action = "contacts:delete"
	HideContacts   Action = "contacts:hide"
	AddNotes       Action = "notes:add"
	ReadNotes      Action = "notes:read"
	DeleteNotes    Action = "notes:delete"
	ManageTags     Action = "tags:manage"
	ReadTags       Action = "tags:read"
	ReadRevenue    Action = "revenue:read"

	RecordPurchases Action = "purchases:record"
	RefundPurchases Action = "purchases:refund"
	GrantOffers     Action = "offers:grant" // grant, revoke a grant, cancel a purchase
	MuteCustomers   Action = "customers:mute"
	RecordActivity  Action = "activity:record"

	SendPasswordReset Action = "passwords:send-reset"
	ChangePasswords   Action = "passwords:change"
)

// permissions is the permission matrix: for each action, the roles allowed.
// It is the only place that says who may do what.
var permissions = map[Action][]Role{
	ReadContacts:   {Owner, Admin, Assistant, Support},
	CreateContacts: {Owner, Admin, Assistant, Support},
	EditContacts:   {Owner, Admin, Assistant, Support},
	DeleteContacts: {Owner, Admin},
	HideContacts:   {Owner, Admin, Assistant, Support},
	AddNotes:       {Owner, Admin, Assistant, Support},
	ReadNotes:      {Owner, Admin, Assistant, Support},
	DeleteNotes:    {Owner, Admin, Assistant},
	ManageTags:     {Owner, Admin, Assistant, Support},
	ReadTags:       {Owner, Admin, Assistant, Support},
	ReadRevenue:    {Owner, Admin},

	RecordPurchases: {Service},
	RefundPurchases: {Owner, Admin, Service},
	GrantOffers:     {Owner, Admin},
	MuteCustomers:   {Owner, Admin, Support},
	RecordActivity:  {Service},

	SendPasswordReset: {Owner, Admin, Support},
	ChangePasswords:   {Owner, Admin},
}

// Can reports whether role may perform action. Unknown roles and actions may
// do nothing.
func Can(role Role, action Action) bool {
	return slices.Contains(permissions[action], role)
}

// Caller is the authenticated account user or server making a request.
// Site comes only from the token, never from the path or the body.
type Caller struct {
	Site     string
	Subject  string
	Email    string
	Role     Role
	Location *time.Location // the site's time zone (claim "tz"), UTC when absent
}

// Authorize returns a forbidden error unless the caller's role may do action.
func (c Caller) Authorize(action Action) error {
	if Can(c.Role, action) {
		return nil
	}
	return apperr.New(apperr.Forbidden, "forbidden", "your role ("+string(c.Role)+") may not do this ("+string(action)+")")
}

// ErrUnauthenticated is returned when the request carries no usable claims.
var ErrUnauthenticated = apperr.New(apperr.Unauthorized, "unauthenticated", "a valid bearer token is required")

// FromRequest reads the caller from the claims API Gateway's JWT authorizer
// put on the request. It fails closed: a missing site or unknown role is a 401.
func FromRequest(req events.APIGatewayV2HTTPRequest) (Caller, error) {
	if req.RequestContext.Authorizer == nil || req.RequestContext.Authorizer.JWT == nil {
		return Caller{}, ErrUnauthenticated
	}
	claims := req.RequestContext.Authorizer.JWT.Claims
	c := Caller{
		Site:     claims["site"],
		Subject:  claims["sub"],
		Email:    claims["email"],
		Role:     Role(claims["role"]),
		Location: time.UTC,
	}
	if !ValidSite(claims["site"]) || !slices.Contains(Roles, c.Role) {
		return Caller{}, ErrUnauthenticated
	}
	if tz := claims["tz"]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			c.Location = loc
		}
	}
	return c, nil
}

// ValidSite reports whether s is a plain site id: 1 to 64 letters, digits,
// '-' and '_' (what SES message tags can carry). Anything else (padding, a
// '#' that could forge keys, a list the identity provider flattened) is
// refused rather than guessed at.
func ValidSite(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
