package demo

import "github.com/shopspring/decimal"

// product is a line a seller sells: what the order and the inventory say
// about it. Import prices are CNY (what the Chinese buyer sees); export
// prices are USD list prices, turned into the buyer's currency by
// priceIn.
type product struct {
	sku    string
	name   string // itemName on the order, gname on the inventory
	model  string // gmodel
	hs     string // 10-digit HS code (gcode); it picks the tariff line
	unit   string // customs unit code: 122 can, 142 bottle, 140 box, 007 piece, 006 set, 131 volume
	price  string
	weight string // kg, gross, per unit
}

func (p product) priceDec() decimal.Decimal  { return decimal.RequireFromString(p.price) }
func (p product) weightDec() decimal.Decimal { return decimal.RequireFromString(p.weight) }

// Import catalogues, by seller: what Chinese buyers order from abroad.
var (
	dairyGoods = []product{
		{"KP-IF3-900", "Infant formula stage 3", "900g can", "1901101000", "122", "228.00", "1.20"},
		{"KP-IF1-800", "Infant formula stage 1", "800g can", "1901101000", "122", "258.00", "1.10"},
		{"KP-MH-UMF15", "Manuka honey UMF 15+", "500g jar", "0409000000", "142", "389.00", "0.75"},
		{"KP-WMP-1KG", "Whole milk powder", "1kg bag", "0402210000", "136", "119.00", "1.05"},
	}
	beautyGoods = []product{
		{"ME-SER-30", "Revitalising serum", "30ml bottle", "3304990099", "142", "560.00", "0.15"},
		{"ME-EDP-50", "Eau de parfum", "50ml bottle", "3303000010", "142", "780.00", "0.30"},
		{"ME-LIP-R12", "Satin lipstick", "3.5g, shade R12", "3304100091", "007", "265.00", "0.05"},
		{"ME-CRM-50", "Night repair cream", "50ml jar", "3304990099", "142", "640.00", "0.20"},
	}
	kitchenGoods = []product{
		{"RK-POT-24", "Stainless steel casserole", "24cm, 4.6L", "7323930000", "007", "899.00", "2.40"},
		{"RK-KNF-5", "Kitchen knife set", "5 pieces", "8211910000", "006", "1280.00", "1.60"},
		{"RK-PAN-28", "Frying pan", "28cm, ceramic coated", "7323990000", "007", "459.00", "1.30"},
	}
	wellnessGoods = []product{
		{"SW-SUN-50", "Sunscreen milk SPF50+", "60ml bottle", "3304990099", "142", "169.00", "0.10"},
		{"SW-MSK-30", "Hydrating face masks", "box of 30", "3304990099", "140", "139.00", "0.45"},
		{"SW-VIT-C", "Vitamin C tablets", "120 tablets", "2106909090", "142", "98.00", "0.25"},
		{"SW-DIA-M", "Baby diapers, size M", "pack of 64", "9619001100", "125", "159.00", "1.90"},
	}
	wineGoods = []product{
		{"GG-CAB-16", "Napa cabernet sauvignon 2016", "750ml bottle", "2204210000", "142", "398.00", "1.40"},
		{"GG-CHA-19", "Sonoma chardonnay 2019", "750ml bottle", "2204210000", "142", "268.00", "1.35"},
	}
	bookGoods = []product{
		{"HB-BK-ATL", "Illustrated world atlas", "hardcover", "4901990000", "131", "188.00", "1.10"},
		{"HB-BK-PIC", "Picture book set", "6 volumes", "4901990000", "006", "156.00", "1.50"},
		{"HB-TOY-BLK", "Building blocks set", "1,200 pieces", "9503008900", "006", "699.00", "1.80"},
	}
	watchGoods = []product{
		{"GH-WT-AUT", "Automatic watch, gold case", "40mm", "9101110000", "007", "3980.00", "0.35"},
		{"GH-WT-CHR", "Chronograph watch, gold case", "42mm", "9101190000", "007", "4650.00", "0.40"},
	}
)

// Export catalogues, by seller: what Shenzhen sells to the world (USD).
var (
	lightingGoods = []product{
		{"LL-DL-01", "LED desk lamp", "touch dimmer, 10W", "9405110000", "007", "29.99", "0.90"},
		{"LL-ST-05", "LED strip lights", "5m, RGB", "9405490000", "007", "15.99", "0.30"},
		{"LL-SM-02", "Smart bulb", "E27, Wi-Fi, pack of 2", "8539520000", "140", "19.99", "0.25"},
	}
	audioGoods = []product{
		{"PA-EB-X3", "Wireless earbuds", "Bluetooth 5.3", "8518300000", "026", "39.99", "0.12"},
		{"PA-SP-M2", "Portable speaker", "waterproof, 20W", "8518220000", "007", "49.99", "0.65"},
		{"PA-HP-NC", "Noise-cancelling headphones", "over-ear", "8518300000", "007", "79.00", "0.45"},
	}
	apparelGoods = []product{
		{"SR-DR-FL", "Floral summer dress", "polyester, size M", "6204430000", "011", "24.50", "0.30"},
		{"SR-HD-01", "Hooded sweatshirt", "cotton, size L", "6110200000", "011", "21.00", "0.55"},
		{"SR-SC-SK", "Silk scarf", "90 x 90 cm", "6214100000", "015", "18.90", "0.10"},
	}
	mobileGoods = []product{
		{"HQ-CS-15", "Phone case", "magnetic, clear", "3926909090", "007", "9.99", "0.06"},
		{"HQ-PB-20", "Power bank", "20,000 mAh, 22.5W", "8507600090", "007", "25.99", "0.42"},
		{"HQ-CH-65", "GaN charger", "65W, 3 ports", "8504403090", "007", "22.99", "0.15"},
	}
	ceramicGoods = []product{
		{"CK-TS-06", "Porcelain tea set", "teapot and 6 cups", "6911101900", "006", "45.00", "1.70"},
		{"CK-VS-30", "Celadon vase", "30cm", "6913900000", "007", "38.00", "1.20"},
	}
	droneGoods = []product{
		{"SD-MD-4K", "Mini camera drone", "4K, foldable", "8806221000", "005", "89.00", "0.55"},
		{"SD-TD-KD", "Kids' toy drone", "with guards", "9503008900", "005", "34.99", "0.40"},
	}
)
