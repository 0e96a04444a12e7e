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

func owner(site string) auth.Caller {
	return auth.Caller{Site: site, Subject: "u-owner", Email: "owner@" + site + ".example", Role: auth.Owner, Location: time.UTC}
}

// newSite returns a fresh site id, so tests never see each other's data.
func newSite(t *testing.T) string {
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	return name[:min(len(name), 40)] + "-" + fmt.Sprint(time.Now().UnixNano()) // site ids are at most 64 characters
}

func newService() *contacts.Service {
	svc := contacts.NewService(newStore(), 365*24*time.Hour)
	return svc
}

func create(t *testing.T, svc *contacts.Service, site string, in contacts.NewContact) contacts.Contact {
	t.Helper()
	c, err := svc.Create(context.Background(), owner(site), in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Email, err)
	}
	return c
}

func TestEmailIsUniquePerSiteCaseInsensitively(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	create(t, svc, site, contacts.NewContact{Email: "Ada.Lovelace@Example.com", Name: "Ada"})
	_, err := svc.Create(ctx, owner(site), contacts.NewContact{Email: " ada.lovelace@example.com ", Name: "Ada again"})
	if !errors.Is(err, apperr.ErrEmailTaken) {
		t.Fatalf("second create: got %v, want email_taken", err)
	}
	// Another site may use the same address.
	create(t, svc, newSite(t)+"b", contacts.NewContact{Email: "ada.lovelace@example.com"})
	// Plus addressing is a different address.
	create(t, svc, site, contacts.NewContact{Email: "ada.lovelace+news@example.com"})
}

func TestProfileReadMakesTwoRequestsAndShowsEverything(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "grace@example.org", Name: "Grace Hopper", Tags: []string{"VIP", "navy"}, Subscribed: aws.Bool(true)})
	if _, err := svc.AddNote(ctx, owner(site), c.ID, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(ctx, owner(site), c.ID, "second"); err != nil {
		t.Fatal(err)
	}
	before := requests.Load()
	p, err := svc.Profile(ctx, owner(site), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := requests.Load() - before; n > 2 {
		t.Errorf("profile read made %d DynamoDB requests, want at most 2", n)
	}
	if p.Email != "grace@example.org" || p.Name != "Grace Hopper" || p.Kind != contacts.KindContact {
		t.Errorf("profile details: %+v", p.Contact)
	}
	if !slices.Equal(p.Tags, []string{"navy", "vip"}) {
		t.Errorf("tags = %v", p.Tags)
	}
	if len(p.Notes) != 2 || p.Notes[0].Body != "second" || p.Notes[0].AuthorEmail != "owner@"+site+".example" {
		t.Errorf("notes (newest first, with author) = %+v", p.Notes)
	}
	if len(p.Lifecycle) != 1 || p.Lifecycle[0].Type != contacts.EventContactAdded {
		t.Errorf("lifecycle = %+v", p.Lifecycle)
	}
	if p.Subscription.Status != contacts.Subscribed {
		t.Errorf("subscription = %+v", p.Subscription)
	}
}

func TestExpiredLifecycleEntriesAreNotShown(t *testing.T) {
	// Retention of one day: a contact imported with a start date two days
	// ago has its "added" entry already expired, though DynamoDB has not
	// deleted the item yet.
	svc := contacts.NewService(newStore(), 24*time.Hour)
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "old@example.com", Source: "import", AddedAt: time.Now().Add(-48 * time.Hour)})
	fresh := create(t, svc, site, contacts.NewContact{Email: "new@example.com"})
	p, err := svc.Profile(context.Background(), owner(site), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Lifecycle) != 0 {
		t.Errorf("expired entry shown: %+v", p.Lifecycle)
	}
	if p.LifespanDays != 2 {
		t.Errorf("lifespanDays = %d, want 2", p.LifespanDays)
	}
	p, _ = svc.Profile(context.Background(), owner(site), fresh.ID)
	if len(p.Lifecycle) != 1 {
		t.Errorf("fresh entry missing: %+v", p.Lifecycle)
	}
}

func TestUpdateMovesTheEmailClaim(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	a := create(t, svc, site, contacts.NewContact{Email: "a@example.com"})
	create(t, svc, site, contacts.NewContact{Email: "b@example.com"})
	if _, err := svc.Update(ctx, owner(site), a.ID, contacts.ContactPatch{Email: aws.String("B@example.com")}, nil); !errors.Is(err, apperr.ErrEmailTaken) {
		t.Fatalf("taking b's email: got %v", err)
	}
	updated, err := svc.Update(ctx, owner(site), a.ID, contacts.ContactPatch{Email: aws.String("c@example.com"), Name: aws.String("Cee")}, &a.Version)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != a.Version+1 {
		t.Errorf("version = %d", updated.Version)
	}
	// a's old address is free again, the new one is taken.
	create(t, svc, site, contacts.NewContact{Email: "A@example.com"})
	if _, err := svc.Create(ctx, owner(site), contacts.NewContact{Email: "c@EXAMPLE.com"}); !errors.Is(err, apperr.ErrEmailTaken) {
		t.Fatalf("new email not claimed: %v", err)
	}
	// A stale version is refused.
	if _, err := svc.Update(ctx, owner(site), a.ID, contacts.ContactPatch{Name: aws.String("x")}, &a.Version); !errors.Is(err, apperr.ErrVersionMismatch) {
		t.Fatalf("stale If-Match: got %v", err)
	}
}

func TestConcurrentEditsWithSameVersionOneWins(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "race@example.com", Name: "Before"})
	names := []string{"Writer One", "Writer Two"}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Update(ctx, owner(site), c.ID, contacts.ContactPatch{Name: &names[i]}, &c.Version)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatal("both edits succeeded")
			}
			won = i
		case !errors.Is(err, apperr.ErrVersionMismatch):
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no edit succeeded")
	}
	got, _ := svc.Profile(ctx, owner(site), c.ID)
	if got.Name != names[won] {
		t.Fatalf("stored name %q, winner wrote %q", got.Name, names[won])
	}
}

func TestDeleteLeavesNoItemBehind(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "gone@example.com", Tags: []string{"a", "b"}})
	keep := create(t, svc, site, contacts.NewContact{Email: "stays@example.com", Tags: []string{"a"}})
	for i := range 30 {
		if _, err := svc.AddNote(ctx, owner(site), c.ID, fmt.Sprint("note ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Delete(ctx, owner(site), c.ID); err != nil {
		t.Fatal(err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		var m map[string]any
		_ = attributevalue.UnmarshalMap(item, &m)
		if strings.Contains(fmt.Sprint(m), c.ID) || strings.Contains(fmt.Sprint(m), "gone@example.com") {
			t.Errorf("item left after delete: %v", m)
		}
	}
	if _, err := svc.Profile(ctx, owner(site), c.ID); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("profile after delete: %v", err)
	}
	if err := svc.Delete(ctx, owner(site), c.ID); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("second delete: %v", err)
	}
	tags, _ := svc.Tags(ctx, owner(site))
	if !slices.Equal(tags, []contacts.TagCount{{Tag: "a", Count: 1}}) {
		t.Errorf("tag counts after delete = %v", tags)
	}
	// The address can be used again, and the other contact is untouched.
	create(t, svc, site, contacts.NewContact{Email: "gone@example.com"})
	if _, err := svc.Profile(ctx, owner(site), keep.ID); err != nil {
		t.Error(err)
	}
	if _, err := svc.AddNote(ctx, owner(site), c.ID, "too late"); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("note on deleted contact: %v", err)
	}
}

func TestListNewestFirstPagedWithHiddenAndSiteBoundCursor(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	var ids []string
	for i := range 7 {
		c := create(t, svc, site, contacts.NewContact{Email: fmt.Sprintf("p%d@example.com", i), AddedAt: time.Now().Add(time.Duration(i-10) * time.Hour)})
		ids = append(ids, c.ID)
	}
	if _, err := svc.SetHidden(ctx, owner(site), ids[5], true); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for range 10 {
		page, err := svc.List(ctx, owner(site), contacts.ListQuery{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.Next == nil {
			break
		}
		cursor = *page.Next
		if _, err := svc.List(ctx, owner(newSite(t)+"x"), contacts.ListQuery{Limit: 2, Cursor: cursor}); !errors.Is(err, apperr.ErrInvalidCursor) {
			t.Fatalf("cursor used on another site: %v", err)
		}
	}
	want := []string{ids[6], ids[4], ids[3], ids[2], ids[1], ids[0]}
	if !slices.Equal(got, want) {
		t.Fatalf("list = %v\nwant   %v (newest first, hidden left out)", got, want)
	}
	all, _ := svc.List(ctx, owner(site), contacts.ListQuery{Limit: 100, IncludeHidden: true})
	if len(all.Items) != 7 || all.Next != nil {
		t.Fatalf("with hidden: %d items, next %v", len(all.Items), all.Next)
	}
}

func TestListByTagAndSearch(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	ada := create(t, svc, site, contacts.NewContact{Email: "Ada@Example.com", Name: "Ada Lovelace", Tags: []string{"vip"}})
	adam := create(t, svc, site, contacts.NewContact{Email: "zz@example.com", Name: "Adam Smith"})
	create(t, svc, site, contacts.NewContact{Email: "bob@example.com", Name: "Bob", Tags: []string{"buyers"}})
	if _, err := svc.Tag(ctx, owner(site), adam.ID, "VIP", true); err != nil {
		t.Fatal(err)
	}
	page, err := svc.List(ctx, owner(site), contacts.ListQuery{Limit: 10, Tag: "vip"})
	if err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(page.Items); !slices.Equal(ids, []string{adam.ID, ada.ID}) {
		t.Errorf("tag vip = %v", ids)
	}
	// "ad" matches ada by email and name, adam by name: each listed once.
	var found []string
	cursor := ""
	for range 5 {
		page, err = svc.List(ctx, owner(site), contacts.ListQuery{Limit: 1, Search: "AD", Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, idsOf(page.Items)...)
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
	if !slices.Equal(found, []string{ada.ID, adam.ID}) {
		t.Errorf("search ad = %v, want ada then adam", found)
	}
	tags, err := svc.Tags(ctx, owner(site))
	if err != nil {
		t.Fatal(err)
	}
	want := []contacts.TagCount{{Tag: "buyers", Count: 1}, {Tag: "vip", Count: 2}}
	if !slices.Equal(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	// Removing twice changes the count once.
	for range 2 {
		if _, err := svc.Tag(ctx, owner(site), ada.ID, "vip", false); err != nil {
			t.Fatal(err)
		}
	}
	tags, _ = svc.Tags(ctx, owner(site))
	if !slices.Equal(tags, []contacts.TagCount{{Tag: "buyers", Count: 1}, {Tag: "vip", Count: 1}}) {
		t.Errorf("after untag: %v", tags)
	}
}

func TestNotesPageAndDelete(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "notes@example.com"})
	for i := range 5 {
		if _, err := svc.AddNote(ctx, owner(site), c.ID, fmt.Sprint("n", i)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := svc.ListNotes(ctx, owner(site), c.ID, 3, "")
	if err != nil || len(first.Items) != 3 || first.Next == nil || first.Items[0].Body != "n4" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	second, err := svc.ListNotes(ctx, owner(site), c.ID, 3, *first.Next)
	if err != nil || len(second.Items) != 2 || second.Items[1].Body != "n0" {
		t.Fatalf("second page: %+v %v", second, err)
	}
	if err := svc.DeleteNote(ctx, owner(site), c.ID, first.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteNote(ctx, owner(site), c.ID, first.Items[0].ID); !errors.Is(err, apperr.ErrNoteNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := svc.ListNotes(ctx, owner(site), contacts.NewID(time.Now()), 3, ""); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Fatalf("notes of a missing contact: %v", err)
	}
}

func TestAnotherSitesContactIsNotFound(t *testing.T) {
	svc, ctx := newService(), context.Background()
	a := create(t, svc, newSite(t), contacts.NewContact{Email: "mine@example.com"})
	other := owner(newSite(t) + "other")
	if _, err := svc.Profile(ctx, other, a.ID); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("profile: %v", err)
	}
	if _, err := svc.Update(ctx, other, a.ID, contacts.ContactPatch{Name: aws.String("x")}, nil); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("update: %v", err)
	}
	if err := svc.Delete(ctx, other, a.ID); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("delete: %v", err)
	}
	if _, err := svc.SetHidden(ctx, other, a.ID, true); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("hide: %v", err)
	}
	if _, err := svc.AddNote(ctx, other, a.ID, "x"); !errors.Is(err, apperr.ErrContactNotFound) {
		t.Errorf("note: %v", err)
	}
}

func idsOf(cs []contacts.Contact) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func TestEditsWithoutIfMatchAllLandAndNoOpsKeepTheVersion(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	c := create(t, svc, site, contacts.NewContact{Email: "busy@example.com"})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("Writer ", i)
			_, errs[i] = svc.Update(ctx, owner(site), c.ID, contacts.ContactPatch{Name: &name}, nil)
		}()
		wg.Add(1)
		go func() { // a tag racing the edits moves the version too
			defer wg.Done()
			_, _ = svc.Tag(ctx, owner(site), c.ID, fmt.Sprint("t", i), true)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("edit %d without If-Match: %v", i, err)
		}
	}
	before, _ := svc.Profile(ctx, owner(site), c.ID)
	same, err := svc.Update(ctx, owner(site), c.ID, contacts.ContactPatch{Name: &before.Name}, nil)
	if err != nil || same.Version != before.Version {
		t.Errorf("a no-op edit moved the version %d -> %d (%v)", before.Version, same.Version, err)
	}
	hidden, _ := svc.SetHidden(ctx, owner(site), c.ID, true)
	again, _ := svc.SetHidden(ctx, owner(site), c.ID, true)
	if !again.Hidden || again.Version != hidden.Version {
		t.Errorf("hiding twice moved the version %d -> %d", hidden.Version, again.Version)
	}
}

func TestSearchNeverMatchesKeySeparators(t *testing.T) {
	svc, ctx := newService(), context.Background()
	site := newSite(t)
	create(t, svc, site, contacts.NewContact{Email: "noname@example.com"})
	named := create(t, svc, site, contacts.NewContact{Email: "x@example.com", Name: "C# Developer"})
	page, err := svc.List(ctx, owner(site), contacts.ListQuery{Limit: 10, Search: "#"})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("search '#': %v %v", idsOf(page.Items), err)
	}
	page, _ = svc.List(ctx, owner(site), contacts.ListQuery{Limit: 10, Search: "c#"})
	if !slices.Equal(idsOf(page.Items), []string{named.ID}) {
		t.Fatalf("search 'c#': %v", idsOf(page.Items))
	}
	// Naming a contact later puts it in the name index; clearing takes it out.
	renamed, err := svc.Update(ctx, owner(site), named.ID, contacts.ContactPatch{Name: aws.String("")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = svc.List(ctx, owner(site), contacts.ListQuery{Limit: 10, Search: "c#"})
	if len(page.Items) != 0 || renamed.Name != "" {
		t.Fatalf("after clearing the name: %v", idsOf(page.Items))
	}
}
