package clearance

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
)

// xmldsigNamespace is that of the ds:Signature a signed message ends with.
const xmldsigNamespace = "http://www.w3.org/2000/09/xmldsig#"

// DecodeXML reads a customs message: root ceb:CEBnnnMessage (guid and
// version attributes) in Namespace, 1 to MaxDocuments document elements
// (ceb:Order, ceb:Payment, ceb:Logistics or ceb:Inventory) each with one head
// and, for orders and inventories, their list lines, then one
// ceb:BaseTransfer naming the sender. A trailing ds:Signature is skipped, not
// verified. want is the kind the endpoint takes ("" for any): both the import
// and the export message of that kind are accepted.
//
// Every field follows the rules of DecodeJSON (the texts are read the same
// way) and every document is validated.
//
// Errors: a *DecodeError with code XML_MALFORMED (not well-formed XML, a DTD,
// a non-UTF-8 encoding), XML_NAMESPACE (an element outside Namespace),
// XML_ROOT (not a CEB message, or one of another kind than want),
// XML_STRUCTURE (elements out of place, no head, no BaseTransfer, a missing
// guid or version), NO_DOCUMENTS, TOO_MANY_DOCUMENTS (reading stops at the
// 101st); or a *ValidationError listing the field errors of every document,
// as "documents[i].field" (0-based) and "baseTransfer.field": the first
// MaxErrors, and how many there are. Like DecodeJSON it stops reading a
// document's lines at the 100th and an element's fields at the 101st. A
// message is taken whole or not at all: on error the result is nil.
func DecodeXML(r io.Reader, want Kind) (*Message, error) {
	x := xmlReader{dec: xml.NewDecoder(r)}
	rm, err := x.readMessage(want)
	if err != nil {
		return nil, err
	}
	msg := rm.msg
	var errs ValidationError
	for i, obj := range rm.docs {
		doc, err := NewDocument(msg.Type)
		if err != nil {
			return nil, fmt.Errorf("decode XML: %w", err)
		}
		errs.collect(fmt.Sprintf("documents[%d].", i), decodeDocument(doc, obj))
		msg.Documents = append(msg.Documents, doc)
	}
	var readErrs []FieldError
	rm.transfer.refuseControl()
	fill(reflect.ValueOf(&msg.Transfer).Elem(), rm.transfer, "", &readErrs)
	var v validator
	msg.Transfer.validate(&v)
	errs.collect("baseTransfer.", mergeErrors(readErrs, v.errs))
	if errs.Total > 0 {
		return nil, &errs
	}
	return msg, nil
}

// collect adds fe, each under prefix, keeping the first MaxErrors and
// counting all in Total.
func (e *ValidationError) collect(prefix string, fe []FieldError) {
	e.Total += len(fe)
	for _, f := range fe[:min(len(fe), MaxErrors-len(e.Errors))] {
		f.Field = prefix + f.Field
		e.Errors = append(e.Errors, f)
	}
}

// xmlReader walks a message token by token, so that a message is refused
// as soon as it goes wrong and never read past its 101st document.
type xmlReader struct {
	dec *xml.Decoder
}

// rawMessage is a message as read: the root's facts, then its documents
// and its BaseTransfer, not yet interpreted.
type rawMessage struct {
	msg      *Message
	docs     []rawObject
	transfer rawObject
}

// readMessage reads the root and its children into raw objects.
func (x *xmlReader) readMessage(want Kind) (rawMessage, error) {
	var transfer rawObject
	root, err := x.next()
	start, ok := root.(xml.StartElement)
	if err != nil || !ok {
		return rawMessage{}, decodeErr(CodeXMLMalformed, err, "the body does not start with an XML element")
	}
	msg, err := x.readRoot(start, want)
	if err != nil {
		return rawMessage{}, err
	}
	elem := messages[msg.Type].elem
	var docs []rawObject
	seenTransfer := false
	for {
		t, err := x.next()
		if err != nil {
			return rawMessage{}, x.unexpectedEOF(err)
		}
		se, ok := t.(xml.StartElement)
		if !ok { // the root's end
			break
		}
		switch {
		case se.Name.Space == xmldsigNamespace && se.Name.Local == "Signature" && seenTransfer:
			if err := x.dec.Skip(); err != nil {
				return rawMessage{}, decodeErr(CodeXMLMalformed, err, "read signature")
			}
		case se.Name.Space != Namespace:
			return rawMessage{}, x.foreign(se)
		case se.Name.Local == elem && !seenTransfer:
			if len(docs) == MaxDocuments {
				return rawMessage{}, decodeErr(CodeTooManyDocuments, nil, "a message carries at most %d documents", MaxDocuments)
			}
			doc, err := x.readDocument(se, msg.Type)
			if err != nil {
				return rawMessage{}, err
			}
			docs = append(docs, doc)
		case se.Name.Local == "BaseTransfer" && !seenTransfer:
			seenTransfer = true
			if transfer, err = x.readFields(se); err != nil {
				return rawMessage{}, err
			}
		default:
			return rawMessage{}, x.misplaced(se)
		}
	}
	switch {
	case len(docs) == 0:
		return rawMessage{}, decodeErr(CodeNoDocuments, nil, "the message carries no ceb:%s", elem)
	case !seenTransfer:
		return rawMessage{}, decodeErr(CodeXMLStructure, nil, "ceb:BaseTransfer is missing")
	}
	if _, err := x.next(); !errors.Is(err, io.EOF) {
		return rawMessage{}, decodeErr(CodeXMLMalformed, err, "content after the root element")
	}
	return rawMessage{msg, docs, transfer}, nil
}

// readRoot checks the root element and its attributes.
func (x *xmlReader) readRoot(root xml.StartElement, want Kind) (*Message, error) {
	if root.Name.Space != Namespace {
		return nil, x.foreign(root)
	}
	mt := MessageType(strings.TrimSuffix(root.Name.Local, "Message"))
	if !mt.Valid() || mt.rootElement() != root.Name.Local {
		return nil, decodeErr(CodeXMLRoot, nil, "%s is not a CEB message", root.Name.Local)
	}
	if want != "" && mt.Kind() != want {
		return nil, decodeErr(CodeXMLRoot, nil, "%s carries %s documents, expected %s", root.Name.Local, mt.Kind(), want)
	}
	msg := &Message{Type: mt}
	for _, a := range root.Attr {
		switch a.Name {
		case xml.Name{Local: "guid"}:
			msg.GUID = a.Value
		case xml.Name{Local: "version"}:
			msg.Version = a.Value
		}
	}
	if msg.GUID == "" || msg.Version == "" {
		return nil, decodeErr(CodeXMLStructure, nil, "%s needs guid and version attributes", root.Name.Local)
	}
	if strings.ContainsFunc(msg.GUID+msg.Version, unicode.IsControl) {
		return nil, decodeErr(CodeXMLStructure, nil, "%s: guid and version hold control characters", root.Name.Local)
	}
	return msg, nil
}

// readDocument reads one document element: its head, then its lines.
func (x *xmlReader) readDocument(start xml.StartElement, mt MessageType) (rawObject, error) {
	elem := messages[mt].elem
	withLines := mt.Kind() == KindOrder || mt.Kind() == KindInventory
	var doc rawObject
	seenHead, linesCut := false, false
	for {
		t, err := x.next()
		if err != nil {
			return doc, x.unexpectedEOF(err)
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			break
		}
		switch {
		case se.Name.Space != Namespace:
			return doc, x.foreign(se)
		case se.Name.Local == elem+"Head" && !seenHead:
			seenHead = true
			head, err := x.readFields(se)
			if err != nil {
				return doc, err
			}
			doc.fields, doc.errs = head.fields, head.errs
		case se.Name.Local == elem+"List" && seenHead && withLines && len(doc.lines) >= MaxLines:
			// One error for the 100th line and whatever follows, which
			// is skipped, not read.
			if !linesCut {
				linesCut = true
				doc.errs = append(doc.errs, FieldError{"lines", CodeTooManyLines, fmt.Sprintf("at most %d lines; reading stopped at the %dth", MaxLines, MaxLines+1)})
			}
			if err := x.dec.Skip(); err != nil {
				return doc, decodeErr(CodeXMLMalformed, err, "%v", err)
			}
		case se.Name.Local == elem+"List" && seenHead && withLines:
			line, err := x.readFields(se)
			if err != nil {
				return doc, err
			}
			doc.hasLines = true
			doc.lines = append(doc.lines, line)
		default:
			return doc, x.misplaced(se)
		}
	}
	if !seenHead {
		return doc, decodeErr(CodeXMLStructure, nil, "ceb:%s without ceb:%sHead", start.Name.Local, elem)
	}
	return doc, nil
}

// readFields reads an element whose children are all leaf fields.
func (x *xmlReader) readFields(start xml.StartElement) (rawObject, error) {
	var obj rawObject
	for {
		t, err := x.next()
		if err != nil {
			return obj, x.unexpectedEOF(err)
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			return obj, nil
		}
		if se.Name.Space != Namespace {
			return obj, x.foreign(se)
		}
		if !obj.admit(se.Name.Local) {
			if err := x.dec.Skip(); err != nil {
				return obj, decodeErr(CodeXMLMalformed, err, "%v", err)
			}
			continue
		}
		text, err := x.readText(se)
		if err != nil {
			return obj, err
		}
		obj.add(se.Name.Local, rawValue{text: text})
	}
}

// readText reads a leaf field's text, trimmed.
func (x *xmlReader) readText(start xml.StartElement) (string, error) {
	var b strings.Builder
	for {
		t, err := x.token()
		if err != nil {
			return "", x.unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", decodeErr(CodeXMLStructure, nil, "line %d: field ceb:%s holds an element", x.line(), start.Name.Local)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		}
	}
}

// next returns the next start or end element, skipping comments, processing
// instructions and white space. A DTD is refused: none is needed and it
// could declare entities.
func (x *xmlReader) next() (xml.Token, error) {
	for {
		t, err := x.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, decodeErr(CodeXMLStructure, nil, "line %d: text outside a field", x.line())
			}
		case xml.Directive:
			return nil, decodeErr(CodeXMLMalformed, nil, "line %d: DTDs and directives are not accepted", x.line())
		}
	}
}

// token reads the next token: io.EOF at a clean end, XML_MALFORMED for any
// syntax error.
func (x *xmlReader) token() (xml.Token, error) {
	t, err := x.dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeErr(CodeXMLMalformed, err, "%v", err)
	}
	return t, err
}

func (x *xmlReader) line() int {
	line, _ := x.dec.InputPos()
	return line
}

// unexpectedEOF turns an end of input inside an element into XML_MALFORMED.
func (x *xmlReader) unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return decodeErr(CodeXMLMalformed, io.ErrUnexpectedEOF, "the message ends inside an element")
	}
	return err
}

func (x *xmlReader) foreign(se xml.StartElement) error {
	return decodeErr(CodeXMLNamespace, nil, "line %d: element %s is in namespace %q, expected %q", x.line(), se.Name.Local, se.Name.Space, Namespace)
}

func (x *xmlReader) misplaced(se xml.StartElement) error {
	return decodeErr(CodeXMLStructure, nil, "line %d: unexpected element ceb:%s", x.line(), se.Name.Local)
}
