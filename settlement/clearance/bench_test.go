package clearance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkBatchIngestAndMatch measures the bulk path the performance
// issue sizes (500,000 chains of 4 documents in 60 s on 2 cores): each op
// submits one batch of 1,000 documents (250 complete, verified chains) in
// one Submit, as POST /v1/documents/batch does, then matches those 250
// chains in one MatchChains call, as their batch task does. Batches run in
// parallel (GOMAXPROCS goroutines × -cpu). It reports documents and chains
// per second; 2,000,000 documents in 60 s is 33,333 documents/s.
//
//	go test ./settlement/clearance -run '^$' -bench BatchIngestAndMatch -benchtime 40x
func BenchmarkBatchIngestAndMatch(b *testing.B) {
	s := storeSetup(b)
	tmpl := fixtureDocs(b, order1)
	var serial, ingestNs, matchNs atomic.Int64
	const chainsPerBatch = MaxBatch / 4
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			docs := make([]Document, 0, MaxBatch)
			keys := make([]ChainKey, 0, chainsPerBatch)
			for range chainsPerBatch {
				n := int(serial.Add(1))
				docs = append(docs, cloneChain(tmpl, fmt.Sprintf("BENCH%08d", n), n)...)
				keys = append(keys, ChainKey{ebp, fmt.Sprintf("BENCH%08d", n)})
			}
			t0 := time.Now()
			if _, err := s.svc.Submit(s.ctx, Submitter{By: "bench", Role: RoleAdmin}, docs); err != nil {
				b.Error(err)
				return
			}
			t1 := time.Now()
			if err := s.svc.MatchChains(s.ctx, keys); err != nil {
				b.Error(err)
				return
			}
			ingestNs.Add(int64(t1.Sub(t0)))
			matchNs.Add(int64(time.Since(t1)))
		}
	})
	elapsed := time.Since(start).Seconds()
	chains := float64(serial.Load())
	b.ReportMetric(chains*4/elapsed, "docs/s")
	b.ReportMetric(chains/elapsed, "chains/s")
	// Share of the batches' time spent storing versus matching.
	b.ReportMetric(float64(ingestNs.Load())/float64(ingestNs.Load()+matchNs.Load())*100, "%ingest")
	b.StopTimer()
	var verified int
	if err := s.db.Get(&verified, `SELECT count(*) FROM clearance_chains WHERE status = 'verified'`); err != nil || verified != int(chains) {
		b.Fatalf("%d of %.0f chains verified (%v)", verified, chains, err)
	}
}

// cloneChain copies the four fixture documents into a chain of its own,
// without decoding again.
func cloneChain(tmpl []Document, orderNo string, buyer int) []Document {
	o, p, w, i := *tmpl[0].(*Order), *tmpl[1].(*Payment), *tmpl[2].(*Waybill), *tmpl[3].(*Inventory)
	o.Lines, i.Lines = slices.Clone(o.Lines), slices.Clone(i.Lines)
	id := ParsePersonalID(residentID(buyer))
	o.OrderNo, o.GUID, o.PayTransactionID, o.BuyerIDNumber = orderNo, orderNo+"-O", "PAY-"+orderNo, id
	p.OrderNo, p.GUID, p.PayTransactionID, p.PayerIDNumber = orderNo, orderNo+"-P", "PAY-"+orderNo, id
	w.OrderNo, w.GUID, w.LogisticsNo = orderNo, orderNo+"-W", "LN-"+orderNo
	i.OrderNo, i.GUID, i.LogisticsNo, i.CopNo, i.BuyerIDNumber = orderNo, orderNo+"-I", "LN-"+orderNo, "COP-"+orderNo, id
	return []Document{&o, &p, &w, &i}
}

// BenchmarkDocumentCodec measures what every document costs in Go on its way
// in (DecodeJSON with validation, EncodeStored) and every time the matcher
// reads it back (DecodeStored): the fixture chain's four documents per op.
func BenchmarkDocumentCodec(b *testing.B) {
	docs := fixtureDocs(b, order1)
	var raws, stored [][]byte
	for _, d := range docs {
		raw, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, bytes.ReplaceAll(raw, []byte(`"4403**********123X"`), []byte(`"44030519900101123X"`)))
		if err := SealPersonalIDs(d, testKey); err != nil {
			b.Fatal(err)
		}
		body, err := EncodeStored(d)
		if err != nil {
			b.Fatal(err)
		}
		stored = append(stored, body)
	}
	b.Run("DecodeJSON", func(b *testing.B) {
		for b.Loop() {
			for _, raw := range raws {
				if _, err := DecodeJSON(raw, ""); err != nil {
					b.Fatalf("%s: %v", raw, err)
				}
			}
		}
	})
	b.Run("EncodeStored", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				if _, err := EncodeStored(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("DecodeStored", func(b *testing.B) {
		for b.Loop() {
			for i, body := range stored {
				if _, err := DecodeStored(docs[i].Header().Message, body, StoredID{Hash: "h", Valid: true}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
