package clearance

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The parties of the fixtures' chains, and others who are no party.
const (
	partySeller    = "4403960002"
	partyPayer     = "4403169D3W"
	partyCarrier   = "4403980001"
	otherPayer     = "4403169D3X"
	otherCarrier   = "4403980009"
	otherPlatform  = "4403960009"
	partyChainSpec = "chain %s/%s: dirty %d clean %d verdict v%d %s %s; %d versions; in force %v"
)

// as are submitters of each role.
func as(role Role, tenant string) Submitter {
	return Submitter{By: "key-" + tenant, Tenant: tenant, Role: role}
}

// chainState is what a refused document must leave as it was: the chain's
// versions and verdict, its parties, its documents and those in force.
func (b *storeBundle) chainState(k ChainKey) string {
	b.t.Helper()
	var c struct {
		Dirty, Clean, Verdict int
		Status, Parties       string
	}
	var versions int
	if err := b.db.Get(&versions, `SELECT count(*) FROM clearance_documents WHERE tenant_id = $1 AND order_no = $2`, k.EbpCode, k.OrderNo); err != nil {
		b.t.Fatal(err)
	}
	err := b.db.QueryRow(`SELECT dirty_version, clean_version, verdict_version, coalesce(status, ''),
		concat_ws(',', (payment_named).party, payment_first, (waybill_named).party, waybill_first)
		FROM clearance_chains WHERE tenant_id = $1 AND order_no = $2`, k.EbpCode, k.OrderNo).
		Scan(&c.Dirty, &c.Clean, &c.Verdict, &c.Status, &c.Parties)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Sprintf("no chain %s/%s; %d versions", k.EbpCode, k.OrderNo, versions)
	}
	if err != nil {
		b.t.Fatalf("chain %v: %v", k, err)
	}
	var inForce []string
	for _, d := range b.chain(k).Documents {
		inForce = append(inForce, d.ID.String())
	}
	return fmt.Sprintf(partyChainSpec, k.EbpCode, k.OrderNo, c.Dirty, c.Clean, c.Verdict, c.Status, c.Parties, versions, inForce)
}

// refused submits docs as by and expects want, with the chain unchanged.
func (b *storeBundle) refused(k ChainKey, by Submitter, want error, docs ...Document) {
	b.t.Helper()
	before := b.chainState(k)
	if _, err := b.svc.Submit(b.ctx, by, docs); !errors.Is(err, want) {
		b.t.Fatalf("%s %s submits %d documents: %v, want %v", by.Role, by.Tenant, len(docs), err, want)
	}
	if after := b.chainState(k); after != before {
		b.t.Fatalf("a refused submit changed the chain:\nbefore %s\nafter  %s", before, after)
	}
}

// later is a new version of d's head, at appTime + dt.
func later(h *Head, guid string, dt time.Duration) {
	h.GUID, h.AppType, h.AppTime = guid, AppChange, h.AppTime.Add(dt)
}

// TestChainPartiesWrite: for each kind of document, the party that is not
// the chain's is refused with CHAIN_PARTY_CONFLICT, and the chain (its
// versions, parties, verdict and documents in force) is as it was; the
// chain's own parties supersede their versions.
func TestChainPartiesWrite(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "PARTY1", 7001)
	k := o.Key()
	for _, x := range []struct {
		by  Submitter
		doc Document
	}{{as(RolePlatform, ebp), o}, {as(RolePaymentInstitution, partyPayer), p}, {as(RoleCarrier, partyCarrier), w}, {as(RolePlatform, ebp), i}} {
		if _, err := b.svc.Submit(b.ctx, x.by, []Document{x.doc}); err != nil {
			t.Fatalf("%s declares its %s: %v", x.by.Tenant, x.doc.Kind(), err)
		}
	}
	if v := b.match(k); verdictOf(t, v).Status != StatusVerified {
		t.Fatalf("chain: %s", v.Verdict)
	}

	// The seller, named as ebcCode, declares none of the platform's documents.
	o2, i2 := *o, *i
	later(&o2.Head, "PARTY1-O2", time.Hour)
	later(&i2.Head, "PARTY1-I2", time.Hour)
	cancel := &Cancellation{Head: Head{Message: CEB623, GUID: "PARTY1-C", AppType: AppNew, AppTime: i.AppTime.Add(time.Hour)},
		OrderNo: k.OrderNo, EbpCode: ebp, EbcCode: partySeller, Reason: "hijack"}
	ret := *cancel
	ret.Message, ret.GUID = CEB625, "PARTY1-R"
	for _, d := range []Document{&o2, &i2, cancel, &ret} {
		b.refused(k, as(RolePlatform, partySeller), ErrChainPartyConflict, d)
	}
	// Another institution, declaring as itself, with a later version.
	p2 := *p
	later(&p2.Head, "PARTY1-P2", time.Hour)
	p2.PayCode = otherPayer
	b.refused(k, as(RolePaymentInstitution, otherPayer), ErrChainPartyConflict, &p2)
	// Another carrier, naming the chain (ebpCode) or not.
	w2 := *w
	later(&w2.Head, "PARTY1-W2", time.Hour)
	w2.LogisticsCode, w2.EbpCode = otherCarrier, ebp
	b.refused(k, as(RoleCarrier, otherCarrier), ErrChainPartyConflict, &w2)
	// The same through an admin, who acts for the parties a document names:
	// the chain's rule holds for it too, for a whole batch.
	b.refused(k, as(RoleAdmin, ""), ErrChainPartyConflict, &o2, &p2)
	// A key declaring as a party it is not stays FORBIDDEN.
	b.refused(k, as(RolePaymentInstitution, otherPayer), ErrNotDeclarant, &o2)
	b.refused(k, as(RolePlatform, otherPlatform), ErrNotDeclarant, &o2)

	// A waybill without ebpCode from another carrier does not find the
	// chain: it is parked, and the chain is as it was.
	before := b.chainState(k)
	w3 := w2
	w3.EbpCode, w3.GUID = "", "PARTY1-W3"
	st, err := b.svc.Submit(b.ctx, as(RoleCarrier, otherCarrier), []Document{&w3})
	if err != nil || !st[0].Parked {
		t.Fatalf("another carrier's waybill without ebpCode: %+v %v, want parked", st, err)
	}
	if after := b.chainState(k); after != before {
		t.Fatalf("a parked waybill changed the chain:\nbefore %s\nafter  %s", before, after)
	}

	// The chain's own parties supersede their versions.
	p3 := *p
	later(&p3.Head, "PARTY1-P3", time.Hour)
	w4 := *w
	later(&w4.Head, "PARTY1-W4", time.Hour)
	for _, x := range []struct {
		by  Submitter
		doc Document
	}{{as(RolePlatform, ebp), &o2}, {as(RolePaymentInstitution, partyPayer), &p3}, {as(RoleCarrier, partyCarrier), &w4}} {
		if _, err := b.svc.Submit(b.ctx, x.by, []Document{x.doc}); err != nil {
			t.Fatalf("%s supersedes its %s: %v", x.by.Tenant, x.doc.Kind(), err)
		}
	}
	v := b.match(k)
	if verdictOf(t, v).Status != StatusVerified {
		t.Fatalf("chain after its parties' new versions: %s", v.Verdict)
	}
	var guids []string
	for _, d := range v.Documents {
		guids = append(guids, d.GUID)
	}
	if want := []string{"PARTY1-O2", "PARTY1-P3", "PARTY1-W4", "PARTY1-I"}; !slices.Equal(guids, want) {
		t.Fatalf("in force %v, want %v", guids, want)
	}
}

// TestChainPartiesBeforeTheOrder: before an order (inventory) names one,
// the first institution (carrier) is the chain's; an order that names
// another then wins for later versions, the first one's payment stays in
// force until superseded and the chain fails PAYMENT_REF meanwhile.
func TestChainPartiesBeforeTheOrder(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "FIRST1", 7002)
	k := o.Key()
	w.EbpCode = ebp
	if _, err := b.svc.Submit(b.ctx, as(RolePaymentInstitution, partyPayer), []Document{p}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Submit(b.ctx, as(RoleCarrier, partyCarrier), []Document{w}); err != nil {
		t.Fatal(err)
	}
	p2, w2 := *p, *w
	later(&p2.Head, "FIRST1-P2", time.Hour)
	later(&w2.Head, "FIRST1-W2", time.Hour)
	p2.PayCode, w2.LogisticsCode = otherPayer, otherCarrier
	b.refused(k, as(RolePaymentInstitution, otherPayer), ErrChainPartyConflict, &p2)
	b.refused(k, as(RoleCarrier, otherCarrier), ErrChainPartyConflict, &w2)
	// Two institutions' payments in one batch: neither is first.
	b.refused(ChainKey{ebp, "FIRST2"}, as(RoleAdmin, ""), ErrChainPartyConflict, payFor("FIRST2", partyPayer), payFor("FIRST2", otherPayer))

	// The order names the other institution and the inventory the other
	// carrier: they are the chain's from now on.
	o.PayCode, i.LogisticsCode = otherPayer, otherCarrier
	b.submit(o, i)
	v := b.match(k)
	if codes := failures(verdictOf(t, v).Failed); !slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(c, "PAYMENT_REF") }) ||
		!slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(c, "WAYBILL_REF") }) {
		t.Fatalf("the first payment and waybill against the order and inventory: %v, want PAYMENT_REF and WAYBILL_REF", codes)
	}
	p3, w3 := *p, *w
	later(&p3.Head, "FIRST1-P3", 2*time.Hour)
	later(&w3.Head, "FIRST1-W3", 2*time.Hour)
	b.refused(k, as(RolePaymentInstitution, partyPayer), ErrChainPartyConflict, &p3)
	b.refused(k, as(RoleCarrier, partyCarrier), ErrChainPartyConflict, &w3)
	if _, err := b.svc.Submit(b.ctx, as(RolePaymentInstitution, otherPayer), []Document{&p2}); err != nil {
		t.Fatalf("the institution the order names: %v", err)
	}
	if _, err := b.svc.Submit(b.ctx, as(RoleCarrier, otherCarrier), []Document{&w2}); err != nil {
		t.Fatalf("the carrier the inventory names: %v", err)
	}
	v = b.match(k)
	for _, c := range failures(verdictOf(t, v).Failed) {
		if strings.HasPrefix(c, "PAYMENT_REF") || strings.HasPrefix(c, "WAYBILL_REF") {
			t.Fatalf("after the named parties' versions: %v", failures(verdictOf(t, v).Failed))
		}
	}
}

// payFor is a payment of chain (ebp, orderNo) by institution payCode.
func payFor(orderNo, payCode string) *Payment {
	return &Payment{Head: Head{Message: CEB411, GUID: orderNo + "-" + payCode, AppType: AppNew, AppTime: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
		PayCode: payCode, PayName: "Pay " + payCode, PayTransactionID: "T-" + orderNo, OrderNo: orderNo, EbpCode: ebp,
		PayerIDType: "1", PayerIDNumber: ParsePersonalID(residentID(7100)), PayerName: "Buyer", AmountPaid: dec("10.00"),
		Currency: "CNY", PayTime: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
}

// TestFirstPaymentRace: two institutions declare the first payment of the
// same chains at once, without an order; of each pair exactly one commits
// and the chain holds its payment alone.
func TestFirstPaymentRace(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	const chains = 20
	for n := range chains {
		orderNo := fmt.Sprintf("RACE%02d", n)
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for j, code := range []string{partyPayer, otherPayer} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = b.svc.Submit(b.ctx, as(RolePaymentInstitution, code), []Document{payFor(orderNo, code)})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrChainPartyConflict):
				t.Fatalf("%s: %v", orderNo, err)
			}
		}
		var payers []string
		if err := b.db.Select(&payers, `SELECT DISTINCT body->>'payCode' FROM clearance_documents WHERE tenant_id = $1 AND order_no = $2`, ebp, orderNo); err != nil {
			t.Fatal(err)
		}
		var first string
		if err := b.db.Get(&first, `SELECT payment_first FROM clearance_chains WHERE tenant_id = $1 AND order_no = $2`, ebp, orderNo); err != nil {
			t.Fatal(err)
		}
		if won != 1 || len(payers) != 1 || payers[0] != first {
			t.Fatalf("%s: %d won (%v), payments by %v, chain's first %s", orderNo, won, errs, payers, first)
		}
	}
}

// TestChainPartiesRead: a chain and its documents are read by its platform,
// the parties its order and inventory in force name, fx_bureau and admin;
// not by a party that merely declared something (the first institution
// before the order) nor anyone else: for them the chain does not exist.
func TestChainPartiesRead(t *testing.T) {
	t.Parallel()
	b := storeSetup(t)
	o, p, w, i := chainDocs(t, "READ1", 7003)
	k := o.Key()
	st, err := b.svc.Submit(b.ctx, as(RolePaymentInstitution, partyPayer), []Document{p})
	if err != nil {
		t.Fatal(err)
	}
	payment := st[0].ID
	reads := func(v Viewer) bool {
		t.Helper()
		_, errChain := b.svc.Chain(b.ctx, v, k)
		_, errDoc := b.svc.Document(b.ctx, v, payment)
		switch {
		case errChain == nil && errDoc == nil:
			return true
		case errors.Is(errChain, ErrChainNotFound) && errors.Is(errDoc, ErrDocumentNotFound):
			return false
		}
		t.Fatalf("%+v reads: chain %v, document %v", v, errChain, errDoc)
		return false
	}
	want := func(when string, readers map[Viewer]bool) {
		t.Helper()
		for v, ok := range readers {
			if got := reads(v); got != ok {
				t.Errorf("%s: %+v reads the chain: %t, want %t", when, v, got, ok)
			}
		}
	}
	platform, seller, payer, carrier := Viewer{ebp, RolePlatform}, Viewer{partySeller, RolePlatform}, Viewer{partyPayer, RolePaymentInstitution}, Viewer{partyCarrier, RoleCarrier}
	stranger, fx, admin := Viewer{otherPlatform, RolePlatform}, Viewer{Role: RoleFXBureau}, Viewer{Role: RoleAdmin}
	want("payment alone", map[Viewer]bool{platform: true, fx: true, admin: true, payer: false, seller: false, carrier: false, stranger: false, {}: false})
	b.submit(w)
	want("waybill too", map[Viewer]bool{platform: true, payer: false, carrier: false})
	b.submit(o)
	want("the order names seller and institution", map[Viewer]bool{platform: true, seller: true, payer: true, carrier: false, stranger: false})
	b.submit(i)
	want("the inventory names the carrier", map[Viewer]bool{seller: true, payer: true, carrier: true, stranger: false, fx: true})
}

// TestAppTimeInTheFuture: a version dated more than MaxAppTimeAhead ahead
// is refused (APP_TIME_FUTURE) whatever the format; one a little ahead
// passes.
func TestAppTimeInTheFuture(t *testing.T) {
	t.Parallel()
	body := func(at string) []byte {
		return []byte(`{"guid":"F1","appType":1,"appTime":"` + at + `","logisticsCode":"4403980001","logisticsName":"X","logisticsNo":"LN1",` +
			`"orderNo":"F1","freight":"0","currency":"142","weight":"1","consignee":"A","consigneeAddress":"B","consigneeTelephone":"1"}`)
	}
	for _, at := range []string{"9999-12-31T23:59:59Z", "99991231235959", time.Now().Add(MaxAppTimeAhead + time.Minute).UTC().Format(time.RFC3339)} {
		_, err := DecodeJSON(body(at), KindWaybill)
		var ve *ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Errors, func(f FieldError) bool { return f.Field == "appTime" && f.Code == CodeAppTimeFuture }) {
			t.Errorf("appTime %s: %v, want appTime %s", at, err, CodeAppTimeFuture)
		}
	}
	if _, err := DecodeJSON(body(time.Now().Add(MaxAppTimeAhead-time.Minute).UTC().Format(time.RFC3339)), KindWaybill); err != nil {
		t.Errorf("appTime %s ahead: %v", MaxAppTimeAhead-time.Minute, err)
	}
}
