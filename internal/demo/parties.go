package demo

import (
	"fmt"

	"github.com/xbsettle/xbsettle/api"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/risk"
)

// Party is an enterprise of the day: a platform, a seller, a carrier, a
// payment institution or the bank. Code is its customs registration code:
// the tenant of its API key and the code documents carry (ebpCode, ebcCode,
// logisticsCode, payCode).
type Party struct {
	Code string
	Name string
	Kind string // risk.KindSeller …
	// Months is how long before the day it was registered (its business
	// licence): tenure, and the FX bureau's guidance period, count from it.
	Months int

	// Sellers only.
	Import   bool            // an overseas seller paid for Chinese imports; else a Shenzhen exporter
	Currency ledger.Currency // import sellers: what they are paid in (CNY: cross-border RMB through CIPS)
	Country  string          // customs country code of origin (import sellers)
	goods    []product
	tax      *taxSpec // Shenzhen exporters: what the export-rebate class is computed from

	// Carriers only: whether its waybills carry ebpCode (an xbsettle
	// extension; the standard's CEB511 does not name the platform), and
	// whether it sends them as CEB XML messages rather than JSON.
	sendsPlatform bool
	speaksXML     bool
	prefix        string // of its logistics numbers, or a platform's order numbers
}

// Role is the API role of the party's key.
func (p *Party) Role() api.Role {
	switch p.Kind {
	case risk.KindCarrier:
		return api.RoleCarrier
	case risk.KindPaymentInstitution:
		return api.RolePaymentInstitution
	case risk.KindBank:
		return api.RoleBank
	}
	// Sellers declare their own documents as e-commerce enterprises
	// (电商企业) with the platform role (DESIGN §2).
	return api.RolePlatform
}

// USCC is the party's unified social credit code: market regulation (9),
// enterprise (1), Shenzhen (440300), a subject identifier derived from the
// customs code, and the GB 32100 check character.
func (p *Party) USCC() string {
	body := "91440300MA5" + p.Code[4:]
	return body + string(checkChar(body, usccAlphabet, func(s string) bool { return risk.ValidateUSCC(s) == nil }))
}

// usccAlphabet is GB 32100's: no I, O, S, V or Z.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// checkChar is the character of alphabet that, appended to body, makes a
// code valid says it is the right one. Asking the validators the service
// itself runs (risk.ValidateUSCC, the GB 11643 check of clearance) keeps
// one implementation of each check; 31 tries cost nothing.
func checkChar(body, alphabet string, valid func(string) bool) byte {
	for i := 0; i < len(alphabet); i++ {
		if valid(body + alphabet[i:i+1]) {
			return alphabet[i]
		}
	}
	panic(fmt.Sprintf("demo: no check character makes %q valid", body))
}

// cast is the day's enterprises. It is fixed, so that the enterprises of
// any seed are the same and a later day builds on an earlier one's record;
// the seed shapes what they do.
type cast struct {
	importPlatforms, exportPlatforms []*Party
	importSellers, exportSellers     []*Party
	carriers, institutions           []*Party
	bank                             *Party
}

// all lists every party once, platforms first: registration order.
func (c *cast) all() []*Party {
	seen := map[*Party]bool{}
	var out []*Party
	for _, group := range [][]*Party{c.importPlatforms, c.exportPlatforms, c.importSellers, c.exportSellers, c.carriers, c.institutions, {c.bank}} {
		for _, p := range group {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// byCode finds a party by its customs code (nil: not of the cast).
func (c *cast) byCode(code string) *Party {
	for _, p := range c.all() {
		if p.Code == code {
			return p
		}
	}
	return nil
}

func newCast() *cast {
	qianhai := &Party{Code: "4403960A01", Name: "Qianhai Global Mall", Kind: risk.KindPlatform, Months: 118, prefix: "QHG"}
	shekou := &Party{Code: "4403960A02", Name: "Shekou Haitao Platform", Kind: risk.KindPlatform, Months: 76, prefix: "SKH"}
	baoan := &Party{Code: "4403961B07", Name: "Bao'an Export Mall", Kind: risk.KindPlatform, Months: 54, prefix: "BAE"}
	seller := func(code, name string, months int, imp bool, cur ledger.Currency, country string, goods []product) *Party {
		return &Party{Code: code, Name: name, Kind: risk.KindSeller, Months: months, Import: imp, Currency: cur, Country: country, goods: goods}
	}
	exporter := func(code, name string, months int, goods []product, tax taxSpec) *Party {
		return &Party{Code: code, Name: name, Kind: risk.KindSeller, Months: months, goods: goods, tax: &tax}
	}
	return &cast{
		importPlatforms: []*Party{qianhai, shekou},
		exportPlatforms: []*Party{baoan, shekou},
		importSellers: []*Party{
			seller("4403W60101", "Kiwi Pasture Dairy Ltd.", 86, true, "USD", "609", dairyGoods),
			seller("4403W60102", "Maison Eclat SAS", 64, true, "EUR", "305", beautyGoods),
			seller("4403W60103", "Rhein Kuechenwaren GmbH", 41, true, "EUR", "304", kitchenGoods),
			seller("4403W60104", "Sakura Wellness K.K.", 29, true, "JPY", "116", wellnessGoods),
			seller("4403W60105", "Golden Gate Vintners LLC", 8, true, "USD", "502", wineGoods),
			seller("4403W60106", "Harbour Books & Toys Ltd.", 95, true, "CNY", "110", bookGoods),
			seller("4403W60107", "Geneve Horlogerie SA", 33, true, "USD", "331", watchGoods),
		},
		exportSellers: []*Party{
			exporter("4403160201", "Shenzhen Lumen Lighting Co., Ltd.", 71, lightingGoods,
				taxSpec{manufacturer: true, rating: "A", claimMonths: 60, netAssets: "18500000.00", rebates: "2100000.00", riskControl: true, capacity: true}),
			exporter("4403160202", "Shenzhen Pocket Audio Technology Co., Ltd.", 38, audioGoods,
				taxSpec{manufacturer: true, rating: "B", claimMonths: 30, netAssets: "4200000.00", rebates: "900000.00", riskControl: true, capacity: true}),
			exporter("4419160203", "Dongguan Silk Road Apparel Co., Ltd.", 102, apparelGoods,
				taxSpec{rating: "A", claimMonths: 96, netAssets: "2600000.00", rebates: "3100000.00", riskControl: true}),
			exporter("4403160204", "Huaqiang Mobile Accessories Co., Ltd.", 17, mobileGoods,
				taxSpec{rating: "M", claimMonths: 10, netAssets: "650000.00", rebates: "120000.00", riskControl: true}),
			exporter("4451160205", "Chaozhou Kiln Ceramics Co., Ltd.", 130, ceramicGoods,
				taxSpec{manufacturer: true, rating: "B", claimMonths: 120, netAssets: "3100000.00", rebates: "400000.00", capacity: true}),
			exporter("4403160206", "Shenzhen Skyward Drones Co., Ltd.", 9, droneGoods, taxSpec{manufacturer: true, netAssets: "1200000.00", rebates: "0.00"}),
		},
		carriers: []*Party{
			{Code: "4403980C01", Name: "Pengcheng Express Co., Ltd.", Kind: risk.KindCarrier, Months: 150, sendsPlatform: true, prefix: "PC"},
			{Code: "4403980C02", Name: "Qianhai Supply Chain Logistics Co., Ltd.", Kind: risk.KindCarrier, Months: 97, prefix: "QL"},
			{Code: "4403980C03", Name: "Bay Area International Post Co., Ltd.", Kind: risk.KindCarrier, Months: 66, prefix: "BA", speaksXML: true},
		},
		institutions: []*Party{
			{Code: "4403169D3W", Name: "Qianhai Cross-border Pay Co., Ltd.", Kind: risk.KindPaymentInstitution, Months: 124, prefix: "QP"},
			{Code: "4403169D4X", Name: "Lianhua Payment Services Co., Ltd.", Kind: risk.KindPaymentInstitution, Months: 88, prefix: "LH"},
			{Code: "4401169E2K", Name: "Nanhai Bay Payment Co., Ltd.", Kind: risk.KindPaymentInstitution, Months: 59, prefix: "NB"},
		},
		bank: &Party{Code: "4403BK0001", Name: "Pearl River Commercial Bank Shenzhen Branch", Kind: risk.KindBank, Months: 240},
	}
}

// taxSpec is an exporter's tax record, from which the State Taxation
// Administration's export-rebate class (1-4) follows: a manufacturer or a
// trader, its tax credit rating ("" not yet rated), how many months ago it
// first claimed a rebate (0: never), last year's net assets and rebates,
// and two findings of the tax office.
type taxSpec struct {
	manufacturer          bool
	rating                string
	claimMonths           int
	netAssets, rebates    string
	riskControl, capacity bool
}
