package clearance

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/xbsettle/xbsettle/internal/testenv"
)

// TestScheduleMatchKeysTasksByChain: a burst for one chain enqueues one task
// and, because that task may already be running, one follow-up a moment
// later; further enqueues are dropped. A batch gets one task for its chains.
func TestScheduleMatchKeysTasksByChain(t *testing.T) {
	t.Parallel()
	r := testenv.Redis(t)
	client := asynq.NewClient(r)
	t.Cleanup(func() { client.Close() })
	sched := NewTaskScheduler(client)
	ctx := context.Background()
	for range 4 {
		if err := sched.ScheduleMatch(ctx, []ChainKey{{ebp, "BURST1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sched.ScheduleMatch(ctx, []ChainKey{{ebp, "B1"}, {ebp, "B2"}, {ebp, "B3"}}); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(r)
	t.Cleanup(func() { insp.Close() })
	pending, err := insp.ListPendingTasks(QueueName)
	if err != nil {
		t.Fatal(err)
	}
	scheduled, err := insp.ListScheduledTasks(QueueName)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || len(scheduled) != 1 || !strings.HasSuffix(scheduled[0].ID, "BURST1:again") {
		t.Fatalf("%d pending, %d scheduled tasks (%v)", len(pending), len(scheduled), scheduled)
	}
	sizes := map[int]bool{}
	for _, p := range pending {
		var m matchPayload
		if err := json.Unmarshal(p.Payload, &m); err != nil {
			t.Fatal(err)
		}
		sizes[len(m.Chains)] = true
	}
	if !sizes[1] || !sizes[3] {
		t.Fatalf("pending tasks carry %v chains, want one of 1 and one of 3", sizes)
	}
}

// TestScheduleMatchKeysBatchesBySet: the batches of the same chains (the
// parties' batches for the same orders, in any order) make one task and
// one follow-up; another set gets its own task.
func TestScheduleMatchKeysBatchesBySet(t *testing.T) {
	t.Parallel()
	r := testenv.Redis(t)
	client := asynq.NewClient(r)
	t.Cleanup(func() { client.Close() })
	sched := NewTaskScheduler(client)
	ctx := context.Background()
	set := []ChainKey{{ebp, "S1"}, {ebp, "S2"}, {ebp, "S3"}}
	for _, batch := range [][]ChainKey{set, {set[2], set[0], set[1]}, {set[1], set[1], set[0], set[2]}, set, {{ebp, "S4"}, {ebp, "S5"}}} {
		if err := sched.ScheduleMatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	insp := asynq.NewInspector(r)
	t.Cleanup(func() { insp.Close() })
	pending, err := insp.ListPendingTasks(QueueName)
	if err != nil {
		t.Fatal(err)
	}
	scheduled, err := insp.ListScheduledTasks(QueueName)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || len(scheduled) != 1 || !strings.HasSuffix(scheduled[0].ID, ":again") {
		t.Fatalf("%d pending, %d scheduled tasks (%v), want a task per set and one follow-up", len(pending), len(scheduled), scheduled)
	}
	var m matchPayload
	if err := json.Unmarshal(scheduled[0].Payload, &m); err != nil || !slices.Equal(m.Chains, set) {
		t.Fatalf("follow-up carries %v (%v), want %v", m.Chains, err, set)
	}
}

// TestCancellationXML: a CEB623 message decodes like its JSON twin.
func TestCancellationXML(t *testing.T) {
	t.Parallel()
	msg := `<ceb:CEB623Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="M1" version="1.0">
	<ceb:InvtCancel><ceb:InvtCancelHead>
		<ceb:guid>C1</ceb:guid><ceb:appType>1</ceb:appType><ceb:appTime>20151112093000</ceb:appTime>
		<ceb:orderNo>QH20151111000001</ceb:orderNo><ceb:ebpCode>4403960001</ceb:ebpCode>
		<ceb:ebcCode>4403960002</ceb:ebcCode><ceb:invtNo>I1</ceb:invtNo><ceb:reason>buyer cancelled</ceb:reason>
	</ceb:InvtCancelHead></ceb:InvtCancel>
	<ceb:BaseTransfer><ceb:copCode>4403960002</ceb:copCode><ceb:copName>Seller</ceb:copName>
		<ceb:dxpMode>DXP</ceb:dxpMode><ceb:dxpId>DXP1</ceb:dxpId></ceb:BaseTransfer>
</ceb:CEB623Message>`
	m, err := DecodeXML(strings.NewReader(msg), KindCancellation)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := DecodeJSON([]byte(`{"guid": "C1", "appType": 1, "appTime": "20151112093000", "orderNo": "QH20151111000001",
		"ebpCode": "4403960001", "ebcCode": "4403960002", "invtNo": "I1", "reason": "buyer cancelled"}`), KindCancellation)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := m.Documents[0].(*Cancellation)
	if !ok || *c != *fromJSON.(*Cancellation) || c.Kind() != KindCancellation || StatusOf(c) != ChainCancelled {
		t.Fatalf("XML %+v, JSON %+v", m.Documents[0], fromJSON)
	}
	if _, err := DecodeJSON([]byte(`{"guid": "C1", "appType": 1, "appTime": "20151112093000", "orderNo": "X",
		"ebpCode": "4403960001", "ebcCode": "4403960002"}`), KindReturn); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("return without reason: %v", err)
	}
}
