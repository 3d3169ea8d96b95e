package demo

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"
)

// maxXMLDocuments is the most documents a CEB message carries.
const maxXMLDocuments = 100

// cebMessages renders waybills as CEB XML messages (DESIGN §5, "XML
// shape"), as a carrier's customs software sends them: CEB511 for import
// waybills, CEB505 for export ones, up to 100 per message, each waybill a
// ceb:Logistics element with one head, then the sender's BaseTransfer.
// The fields are the JSON document's, in its order.
func cebMessages(sender *Party, docs []document) []cebMsg {
	byMessage := map[string][]document{}
	var order []string
	for _, d := range docs {
		m := map[string]string{"waybill": "CEB511", "export_waybill": "CEB505"}[d.kind]
		if m == "" {
			panic(fmt.Sprintf("demo: no CEB message for %s documents", d.kind))
		}
		if _, ok := byMessage[m]; !ok {
			order = append(order, m)
		}
		byMessage[m] = append(byMessage[m], d)
	}
	var out []cebMsg
	for _, m := range order {
		ds := byMessage[m]
		for len(ds) > 0 {
			n := min(maxXMLDocuments, len(ds))
			out = append(out, cebMsg{body: cebMessage(m, sender, ds[:n]), n: n})
			ds = ds[n:]
		}
	}
	return out
}

// cebMsg is one CEB XML message and how many documents it carries.
type cebMsg struct {
	body []byte
	n    int
}

// cebMessage is one message of documents of one type.
func cebMessage(message string, sender *Party, docs []document) []byte {
	var b bytes.Buffer
	first := reflect.ValueOf(docs[0].v).FieldByName("GUID").String()
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ceb:%sMessage xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" guid=%q version=\"1.0\">\n",
		message, strings.ToUpper(uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("%s:%s:%d", message, first, len(docs)))).String()))
	for _, d := range docs {
		b.WriteString("  <ceb:Logistics>\n    <ceb:LogisticsHead>\n")
		writeFields(&b, reflect.ValueOf(d.v))
		b.WriteString("    </ceb:LogisticsHead>\n  </ceb:Logistics>\n")
	}
	b.WriteString("  <ceb:BaseTransfer>\n")
	for _, f := range [][2]string{{"copCode", sender.Code}, {"copName", sender.Name}, {"dxpMode", "DXP"}, {"dxpId", "DXPENT" + sender.Code}} {
		writeElement(&b, f[0], f[1])
	}
	fmt.Fprintf(&b, "  </ceb:BaseTransfer>\n</ceb:%sMessage>\n", message)
	return b.Bytes()
}

// writeFields writes a document struct's fields as head elements: its
// JSON names, omitting the "type" (the message says it) and what JSON
// would omit.
func writeFields(b *bytes.Buffer, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		f := v.Field(i)
		if name == "type" || (opts == "omitempty" && f.IsZero()) {
			continue
		}
		writeElement(b, name, fmt.Sprint(f.Interface()))
	}
}

func writeElement(b *bytes.Buffer, name, text string) {
	fmt.Fprintf(b, "      <ceb:%s>", name)
	_ = xml.EscapeText(b, []byte(text)) // a bytes.Buffer does not fail
	fmt.Fprintf(b, "</ceb:%s>\n", name)
}
