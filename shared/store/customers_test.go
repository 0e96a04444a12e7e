package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
)

func as(site string, role auth.Role) auth.Caller {
	return auth.Caller{Site: site, Subject: "u-" + string(role), Email: string(role) + "@" + site + ".example", Role: role, Location: time.UTC}
}

func buy(t *testing.T, svc *contacts.Service, site, email, order string, amount int64, currency string, products ...string) contacts.Purchase {
	t.Helper()
	var ps []contacts.Product
	for _, id := range products {
		ps = append(ps, contacts.Product{ID: id, Title: "Product " + id})
	}
	p, _, err := svc.RecordPurchase(context.Background(), as(site, auth.Service), contacts.NewPurchase{
		Email: email, OfferID: "offer-" + order, OfferTitle: "Offer " + order, Products: ps, Amount: &amount, Currency: currency, OrderID: order,
	})
	if err != nil {
		t.Fatalf("purchase %s: %v", order, err)
	}
	return p
}

func profile(t *testing.T, svc *contacts.Service, site, id string, role auth.Role) contacts.Profile {
	t.Helper()
	p, err := svc.Profile(context.Background(), as(site, role), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPurchaseCreatesCustomerAndRetryChangesNothing(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	first := buy(t, svc, site, "Buyer@Example.com", "order-1", 4900, "USD", "course")
	amount := int64(4900)
	again, replay, err := svc.RecordPurchase(ctx, as(site, auth.Service), contacts.NewPurchase{
		Email: "buyer@example.com", OfferID: "offer-order-1", Amount: &amount, Currency: "USD", OrderID: "order-1",
	})
	if err != nil || !replay || again.ID != first.ID {
		t.Fatalf("retry: replay=%v id=%s (first %s) err=%v", replay, again.ID, first.ID, err)
	}
	p := profile(t, svc, site, first.ContactID, auth.Owner)
	if p.Kind != contacts.KindCustomer || p.PurchasesCount != 1 || p.NetRevenue["USD"] != 4900 || len(p.Purchases) != 1 {
		t.Fatalf("after retry: kind %s count %d revenue %v purchases %d", p.Kind, p.PurchasesCount, p.NetRevenue, len(p.Purchases))
	}
	if p.CustomerSince == nil || !p.StartDate.Equal(first.At) || p.Source != "purchase" {
		t.Errorf("start date %v customerSince %v source %s, want the purchase's time %v", p.StartDate, p.CustomerSince, p.Source, first.At)
	}
	if !slices.Equal(p.ProductsOwned, []contacts.Product{{ID: "course", Title: "Product course"}}) {
		t.Errorf("products owned %v", p.ProductsOwned)
	}
}

func TestTwentyConcurrentPurchasesForOnePerson(t *testing.T) {
	svc := newService()
	site := newSite(t)
	var wg sync.WaitGroup
	var sum int64
	errs := make([]error, 20)
	ids := make([]string, 20)
	for i := range 20 {
		amount := int64(1000 + i*37)
		sum += amount
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := svc.RecordPurchase(context.Background(), as(site, auth.Service), contacts.NewPurchase{
				Email: "many@example.com", OfferID: fmt.Sprint("offer-", i), Amount: &amount, Currency: "EUR", OrderID: fmt.Sprint("order-", i),
			})
			errs[i], ids[i] = err, p.ContactID
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("purchases landed on different contacts: %v", ids)
		}
	}
	p := profile(t, svc, site, ids[0], auth.Owner)
	if p.PurchasesCount != 20 || p.NetRevenue["EUR"] != sum || len(p.Purchases) != 20 {
		t.Fatalf("count %d, revenue %v (want 20 and %d), records %d", p.PurchasesCount, p.NetRevenue, sum, len(p.Purchases))
	}
}

func TestGrantRevokeAndProducts(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "granted@example.com"})
	admin := as(site, auth.Admin)
	g, err := svc.Grant(ctx, admin, c.ID, contacts.NewGrant{OfferID: "vip-club", OfferTitle: "VIP Club", Products: []contacts.Product{{ID: "forum", Title: "Forum"}, {ID: "course", Title: "Course"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, admin, c.ID, contacts.NewGrant{OfferID: "vip-club"}); !errors.Is(err, contacts.ErrOfferHeld) {
		t.Fatalf("granting a held offer: %v", err)
	}
	// The course is also bought, so it stays owned after the grant goes.
	buy(t, svc, site, "GRANTED@example.com", "o-course", 2500, "USD", "course")
	p := profile(t, svc, site, c.ID, auth.Owner)
	if p.Kind != contacts.KindCustomer || p.PurchasesCount != 2 || len(p.ProductsOwned) != 2 {
		t.Fatalf("after grant and purchase: %s count %d products %v", p.Kind, p.PurchasesCount, p.ProductsOwned)
	}
	since := *p.CustomerSince
	ended, err := svc.EndPurchase(ctx, admin, c.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status != contacts.StatusRevoked || ended.RevokedBy == nil || ended.RevokedBy.Email != admin.Email {
		t.Fatalf("revoked record %+v", ended)
	}
	if _, err := svc.EndPurchase(ctx, admin, c.ID, g.ID); !errors.Is(err, contacts.ErrAlreadyEnded) {
		t.Fatalf("revoking twice: %v", err)
	}
	p = profile(t, svc, site, c.ID, auth.Owner)
	if !slices.Equal(p.ProductsOwned, []contacts.Product{{ID: "course", Title: "Product course"}}) {
		t.Errorf("products after revoke: %v", p.ProductsOwned)
	}
	i := slices.IndexFunc(p.Purchases, func(x contacts.Purchase) bool { return x.ID == g.ID })
	if i < 0 || p.Purchases[i].RevokedBy.Email != admin.Email || p.Purchases[i].GrantedBy.Email != admin.Email {
		t.Fatalf("grant record on the profile: %+v", p.Purchases)
	}
	if !p.CustomerSince.Equal(since) || p.Kind != contacts.KindCustomer {
		t.Errorf("customer since moved or kind changed: %v %s", p.CustomerSince, p.Kind)
	}
	var types []string
	for _, e := range p.Lifecycle {
		types = append(types, e.Type)
	}
	for _, want := range []string{contacts.EventGranted, contacts.EventPurchased, contacts.EventRevoked} {
		if !slices.Contains(types, want) {
			t.Errorf("lifecycle %v lacks %s", types, want)
		}
	}
	// The offer can be granted again once revoked; another site cannot grant.
	if _, err := svc.Grant(ctx, admin, c.ID, contacts.NewGrant{OfferID: "vip-club"}); err != nil {
		t.Errorf("re-grant after revoke: %v", err)
	}
	if _, err := svc.Grant(ctx, as(newSite(t)+"x", auth.Owner), c.ID, contacts.NewGrant{OfferID: "other"}); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("grant from another site: %v", err)
	}
}

func TestRefundsAreExactAndCurrenciesApart(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	usd := buy(t, svc, site, "refund@example.com", "r-1", 10000, "USD")
	buy(t, svc, site, "refund@example.com", "r-2", 3000, "JPY")
	owner := as(site, auth.Owner)
	part := int64(2550)
	if _, err := svc.Refund(ctx, owner, usd.ID, contacts.NewRefund{Amount: &part, RefundID: "rf-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refund(ctx, owner, usd.ID, contacts.NewRefund{Amount: &part, RefundID: "rf-1"}); err != nil {
		t.Fatalf("retried refund: %v", err)
	}
	tooMuch := int64(10000 - 2550 + 1)
	if _, err := svc.Refund(ctx, owner, usd.ID, contacts.NewRefund{Amount: &tooMuch}); !errors.Is(err, contacts.ErrRefundTooLarge) {
		t.Fatalf("refund over the amount: %v", err)
	}
	p := profile(t, svc, site, usd.ContactID, auth.Owner)
	if p.NetRevenue["USD"] != 10000-2550 || p.NetRevenue["JPY"] != 3000 {
		t.Fatalf("net revenue %v", p.NetRevenue)
	}
	if _, err := svc.Refund(ctx, owner, contacts.NewID(time.Now()), contacts.NewRefund{Amount: &part}); !errors.Is(err, contacts.ErrPurchaseNotFound) {
		t.Errorf("refund of an unknown purchase: %v", err)
	}
	if _, err := svc.Refund(ctx, as(newSite(t)+"x", auth.Owner), usd.ID, contacts.NewRefund{Amount: &part}); !errors.Is(err, contacts.ErrPurchaseNotFound) {
		t.Errorf("refund from another site: %v", err)
	}
}

func TestRolesWithoutFinancialAccessSeeNoRevenue(t *testing.T) {
	svc := newService()
	site := newSite(t)
	p := buy(t, svc, site, "secret@example.com", "s-1", 990, "GBP")
	for _, role := range []auth.Role{auth.Assistant, auth.Support} {
		prof := profile(t, svc, site, p.ContactID, role)
		if prof.NetRevenue != nil || prof.Purchases[0].Amount != nil || prof.Purchases[0].Currency != "" {
			t.Errorf("%s sees revenue: %v %+v", role, prof.NetRevenue, prof.Purchases[0])
		}
		for _, e := range prof.Lifecycle {
			if _, ok := e.Detail["amount"]; ok {
				t.Errorf("%s sees an amount in the lifecycle: %v", role, e.Detail)
			}
		}
	}
}

func TestMuteExternalIDAndActivity(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	owner := as(site, auth.Owner)
	plain := create(t, svc, site, contacts.NewContact{Email: "plain@example.com"})
	if _, err := svc.SetMuted(ctx, owner, plain.ID, true); !errors.Is(err, contacts.ErrNotCustomer) {
		t.Fatalf("muting a contact: %v", err)
	}
	if _, err := svc.Update(ctx, owner, plain.ID, contacts.ContactPatch{ExternalID: aws.String("ext-1")}, nil); !errors.Is(err, contacts.ErrNotCustomer) {
		t.Fatalf("external id on a contact: %v", err)
	}
	a := buy(t, svc, site, "a@example.com", "m-1", 100, "USD")
	b := buy(t, svc, site, "b@example.com", "m-2", 100, "USD")
	if c, err := svc.SetMuted(ctx, owner, a.ContactID, true); err != nil || !c.Muted {
		t.Fatalf("mute: %+v %v", c, err)
	}
	if _, err := svc.Update(ctx, owner, a.ContactID, contacts.ContactPatch{ExternalID: aws.String("ext-1")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, owner, b.ContactID, contacts.ContactPatch{ExternalID: aws.String("ext-1")}, nil); !errors.Is(err, contacts.ErrExternalIDTaken) {
		t.Fatalf("taken external id: %v", err)
	}
	svcRole := as(site, auth.Service)
	for range 2 {
		if _, err := svc.RecordActivity(ctx, svcRole, a.ContactID, contacts.NewActivity{Type: contacts.ActivitySignIn}); err != nil {
			t.Fatal(err)
		}
	}
	p := profile(t, svc, site, a.ContactID, auth.Owner)
	if p.SignInCount != 2 || p.LastActivityAt == nil || time.Since(*p.LastActivityAt) > time.Minute || p.ExternalID != "ext-1" {
		t.Fatalf("sign-ins %d last activity %v ext %q", p.SignInCount, p.LastActivityAt, p.ExternalID)
	}
	active, err := svc.List(ctx, owner, contacts.ListQuery{Limit: 10, ActiveSince: time.Now().Add(-24 * time.Hour)})
	if err != nil || !slices.Equal(idsOf(active.Items), []string{a.ContactID}) {
		t.Fatalf("active in the last day: %v %v", idsOf(active.Items), err)
	}
	customers, _ := svc.List(ctx, owner, contacts.ListQuery{Limit: 10, Kind: contacts.KindCustomer})
	if len(customers.Items) != 2 {
		t.Errorf("customers: %v", idsOf(customers.Items))
	}
	plainOnes, _ := svc.List(ctx, owner, contacts.ListQuery{Limit: 10, Kind: contacts.KindContact})
	if !slices.Equal(idsOf(plainOnes.Items), []string{plain.ID}) {
		t.Errorf("contacts: %v", idsOf(plainOnes.Items))
	}
}

func TestLifecycleShowsNewestTwentyAndPages(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	first := buy(t, svc, site, "busy@example.com", "l-0", 1, "USD")
	for i := 1; i < 25; i++ {
		buy(t, svc, site, "busy@example.com", fmt.Sprint("l-", i), 1, "USD")
	}
	p := profile(t, svc, site, first.ContactID, auth.Owner)
	if len(p.Lifecycle) != 20 {
		t.Fatalf("profile lifecycle has %d entries, want 20", len(p.Lifecycle))
	}
	for i := 1; i < len(p.Lifecycle); i++ {
		if p.Lifecycle[i].At.After(p.Lifecycle[i-1].At) {
			t.Fatalf("lifecycle not newest first at %d", i)
		}
	}
	var all []contacts.LifecycleEntry
	cursor := ""
	for range 10 {
		page, err := svc.Lifecycle(ctx, as(site, auth.Owner), first.ContactID, contacts.LifecycleQuery{Limit: 7, Cursor: cursor, Type: contacts.EventPurchased})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
	if len(all) != 25 || all[24].Detail["purchaseId"] != first.ID {
		t.Fatalf("paged %d purchased entries, last %v", len(all), all[len(all)-1].Detail)
	}
}

func TestDeleteCustomerLeavesNoClaims(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	p := buy(t, svc, site, "gone-customer@example.com", "d-1", 500, "USD", "x")
	if _, err := svc.Update(ctx, as(site, auth.Owner), p.ContactID, contacts.ContactPatch{ExternalID: aws.String("ext-gone")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, as(site, auth.Owner), p.ContactID); err != nil {
		t.Fatal(err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		var m map[string]any
		_ = attributevalue.UnmarshalMap(item, &m)
		text := fmt.Sprint(m)
		if strings.Contains(text, p.ContactID) || strings.Contains(text, "ext-gone") || strings.Contains(text, p.ID) || strings.Contains(text, "gone-customer") {
			t.Errorf("left after delete: %v", m)
		}
	}
	// A retried order does not bring the deleted person back.
	amount := int64(500)
	_, _, err = svc.RecordPurchase(ctx, as(site, auth.Service), contacts.NewPurchase{Email: "gone-customer@example.com", OfferID: "o", Amount: &amount, Currency: "USD", OrderID: "d-1"})
	if !errors.Is(err, contacts.ErrOrderDeleted) {
		t.Fatalf("retried order of a deleted customer: %v", err)
	}
	if page, _ := svc.List(ctx, as(site, auth.Owner), contacts.ListQuery{Limit: 10, IncludeHidden: true}); len(page.Items) != 0 {
		t.Fatalf("the deleted customer is back: %v", idsOf(page.Items))
	}
}

func TestRefundIDsArePerPurchaseAndMuteTwiceKeepsTheVersion(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	owner := as(site, auth.Owner)
	p1 := buy(t, svc, site, "two@example.com", "t-1", 1000, "USD")
	p2 := buy(t, svc, site, "two@example.com", "t-2", 1000, "USD")
	a, b := int64(300), int64(50)
	if _, err := svc.Refund(ctx, owner, p1.ID, contacts.NewRefund{Amount: &a, RefundID: "rf"}); err != nil {
		t.Fatal(err)
	}
	r2, err := svc.Refund(ctx, owner, p2.ID, contacts.NewRefund{Amount: &b, RefundID: "rf"})
	if err != nil || r2.PurchaseID != p2.ID || r2.Amount != 50 {
		t.Fatalf("the same refund id on another purchase: %+v %v", r2, err)
	}
	if _, err := svc.Refund(ctx, owner, p1.ID, contacts.NewRefund{Amount: &b, RefundID: "rf"}); !errors.Is(err, contacts.ErrRefundIDReused) {
		t.Fatalf("a refund id reused with another amount: %v", err)
	}
	prof := profile(t, svc, site, p1.ContactID, auth.Owner)
	if prof.NetRevenue["USD"] != 2000-300-50 {
		t.Fatalf("net revenue %v", prof.NetRevenue)
	}
	m1, _ := svc.SetMuted(ctx, owner, p1.ContactID, true)
	m2, err := svc.SetMuted(ctx, owner, p1.ContactID, true)
	if err != nil || !m2.Muted || m2.Version != m1.Version {
		t.Fatalf("muting twice: %+v %v (version %d -> %d)", m2, err, m1.Version, m2.Version)
	}
	old := time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)
	if _, err := svc.RecordActivity(ctx, as(site, auth.Service), p1.ContactID, contacts.NewActivity{Type: contacts.ActivitySignIn, At: old}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("a sign-in in 1969: %v", err)
	}
	if _, _, err := svc.RecordPurchase(ctx, as(site, auth.Service), contacts.NewPurchase{Email: "old@example.com", OfferID: "o", Amount: &a, Currency: "USD", OrderID: "t-old", PurchasedAt: old}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("a purchase in 1969: %v", err)
	}
	if _, _, err := svc.RecordPurchase(ctx, as(site, auth.Service), contacts.NewPurchase{Email: "old@example.com", OfferID: "o", Amount: &a, Currency: "XXX", OrderID: "t-xxx"}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("currency XXX: %v", err)
	}
}
