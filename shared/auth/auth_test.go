package auth

import (
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestPermissionMatrix spells out, role by role, what each may do. A change
// to the matrix must change this table too.
func TestPermissionMatrix(t *testing.T) {
	people := []Action{ReadContacts, CreateContacts, EditContacts, DeleteContacts, HideContacts, AddNotes, ReadNotes, DeleteNotes, ManageTags, ReadTags}
	all := slices.Concat(people, []Action{ReadRevenue, RecordPurchases, RefundPurchases, GrantOffers, MuteCustomers, RecordActivity, SendPasswordReset, ChangePasswords})
	managers := slices.Concat(people, []Action{ReadRevenue, RefundPurchases, GrantOffers, MuteCustomers, SendPasswordReset, ChangePasswords})
	want := map[Role][]Action{
		Owner:     managers,
		Admin:     managers,
		Assistant: {ReadContacts, CreateContacts, EditContacts, HideContacts, AddNotes, ReadNotes, DeleteNotes, ManageTags, ReadTags},
		Support:   {ReadContacts, CreateContacts, EditContacts, HideContacts, AddNotes, ReadNotes, ManageTags, ReadTags, MuteCustomers, SendPasswordReset},
		Service:   {RecordPurchases, RefundPurchases, RecordActivity},
		"guest":   {},
	}
	for role, allowed := range want {
		for _, action := range all {
			expect := false
			for _, a := range allowed {
				expect = expect || a == action
			}
			if got := Can(role, action); got != expect {
				t.Errorf("Can(%s, %s) = %v, want %v", role, action, got, expect)
			}
		}
	}
}

func TestFromRequest(t *testing.T) {
	req := func(claims map[string]string) events.APIGatewayV2HTTPRequest {
		var r events.APIGatewayV2HTTPRequest
		r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
		return r
	}
	c, err := FromRequest(req(map[string]string{"site": "demo", "role": "admin", "email": "a@example.com", "sub": "u1", "tz": "Europe/Berlin"}))
	if err != nil || c.Site != "demo" || c.Role != Admin || c.Location.String() != "Europe/Berlin" {
		t.Fatalf("got %+v, %v", c, err)
	}
	c, err = FromRequest(req(map[string]string{"site": "demo", "role": "owner", "tz": "Mars/Olympus"}))
	if err != nil || c.Location.String() != "UTC" {
		t.Fatalf("an unknown time zone falls back to UTC: %+v, %v", c, err)
	}
	for _, claims := range []map[string]string{
		{"role": "owner"},                     // no site
		{"site": "demo"},                      // no role
		{"site": "demo", "role": "root"},      // unknown role
		{"site": "de#mo", "role": "owner"},    // a site that could forge keys
		{"site": " demo ", "role": "owner"},   // padded: not silently trimmed
		{"site": "[demo]", "role": "owner"},   // a list the provider flattened
		{"site": "map[a:b]", "role": "owner"}, // an object the provider flattened
	} {
		if _, err := FromRequest(req(claims)); err == nil {
			t.Errorf("claims %v accepted", claims)
		}
	}
	if _, err := FromRequest(events.APIGatewayV2HTTPRequest{}); err == nil {
		t.Error("request without authorizer accepted")
	}
}
