package demo

import (
	"fmt"
	"time"

	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Person is a buyer, payer or consignee. Chinese buyers carry an 18-digit
// resident ID number (GB 11643) with a valid check character; overseas
// buyers of exports carry only a name and a country.
type Person struct {
	Name      string
	ID        string // resident ID number; "" for overseas buyers
	Telephone string
	Address   string
	Country   string // customs country code (overseas buyers)
}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曹", "曾"}
	givens   = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晓峰", "雨欣", "子涵", "浩然", "思远", "佳怡", "俊杰", "欣怡", "宇航", "梓萱", "建华", "国强", "丽娟"}

	// divisions are GB/T 2260 codes: where a resident ID was issued, and
	// the district part of the buyer's address.
	divisions = []struct{ code, place string }{
		{"440303", "广东省深圳市罗湖区"}, {"440304", "广东省深圳市福田区"}, {"440305", "广东省深圳市南山区"},
		{"440306", "广东省深圳市宝安区"}, {"440307", "广东省深圳市龙岗区"}, {"440106", "广东省广州市天河区"},
		{"440104", "广东省广州市越秀区"}, {"441900", "广东省东莞市"}, {"110105", "北京市朝阳区"},
		{"110108", "北京市海淀区"}, {"310115", "上海市浦东新区"}, {"310104", "上海市徐汇区"},
		{"330106", "浙江省杭州市西湖区"}, {"320506", "江苏省苏州市吴中区"}, {"510107", "四川省成都市武侯区"},
		{"420106", "湖北省武汉市武昌区"}, {"430104", "湖南省长沙市岳麓区"}, {"350203", "福建省厦门市思明区"},
		{"500103", "重庆市渝中区"}, {"610113", "陕西省西安市雁塔区"},
	}
	streets = []string{"深南大道", "科技园南路", "滨海大道", "建设路", "人民路", "中山路", "解放路", "学府路", "文化路", "新华路", "长安街", "淮海路", "南京路", "天府大道", "星湖街"}
	estates = []string{"阳光花园", "海景名苑", "翠湖山庄", "锦绣家园", "碧水湾", "华侨城", "幸福里", "世纪新城", "金色家园", "云顶公寓"}

	mobilePrefixes = []string{"130", "135", "136", "137", "138", "139", "150", "152", "158", "159", "177", "180", "185", "186", "188", "189", "199"}

	// Overseas buyers of Shenzhen's exports, by destination: the customs
	// country code, names, and the currency they pay in.
	destinations = []struct {
		country, currency string
		weight            int
		first, last       []string
	}{
		{"502", "USD", 34, []string{"James", "Emily", "Michael", "Olivia", "Daniel", "Sophia", "Ryan", "Ava"}, []string{"Johnson", "Miller", "Davis", "Garcia", "Wilson", "Anderson", "Taylor", "Moore"}},
		{"304", "EUR", 16, []string{"Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie"}, []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"}},
		{"305", "EUR", 10, []string{"Hugo", "Chloé", "Louis", "Camille", "Jules", "Inès"}, []string{"Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefèvre"}},
		{"116", "JPY", 16, []string{"Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi"}, []string{"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"}},
		{"303", "USD", 10, []string{"Oliver", "Amelia", "Harry", "Isla", "George", "Freya"}, []string{"Smith", "Jones", "Brown", "Evans", "Thomas", "Roberts"}},
		{"601", "USD", 6, []string{"Jack", "Charlotte", "Noah", "Mia"}, []string{"Wilson", "Thompson", "White", "Walker"}},
		{"110", "CNY", 8, []string{"Ka Ming", "Wing Yan", "Chun Kit", "Hoi Ying"}, []string{"Chan", "Wong", "Leung", "Cheung"}},
	}
	destinationWeights = func() []int {
		w := make([]int, len(destinations))
		for i, d := range destinations {
			w[i] = d.weight
		}
		return w
	}()
)

// chineseBuyer draws a resident: name, a resident ID number with a valid
// GB 11643 check character, a mobile number and a home address. serial
// (from the run's tag) shifts the birth date and the sequence code of the
// ID number, so that the people of a day replayed under another tag are
// other people and their annual quotas do not meet; the draws themselves
// do not depend on it.
func chineseBuyer(d *dice, serial uint64) Person {
	const days = 38 * 365 // births from 1966 on
	div := pick(d, divisions)
	birth := time.Date(1966, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((uint64(d.intn(days))+serial%days)%days))
	// The sequence code's last digit is odd for men, even for women.
	seq := int((uint64(d.intn(500))+serial/days%500)%500)*2 + d.intn(2)
	body := div.code + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	return Person{
		Name:      pick(d, surnames) + pick(d, givens),
		ID:        body + string(checkChar(body, "0123456789X", clearance.ResidentIDValid)),
		Telephone: pick(d, mobilePrefixes) + fmt.Sprintf("%08d", d.intn(100000000)),
		Address: fmt.Sprintf("%s%s%d号%s%d栋%d室", div.place, pick(d, streets), d.between(1, 3000),
			pick(d, estates), d.between(1, 30), d.between(101, 3208)),
	}
}

// relative is someone of the buyer's household: another name, phone and
// ID number, the same address. Payers who are not the buyer are drawn
// here.
func relative(d *dice, of Person, serial uint64) Person {
	p := chineseBuyer(d, serial)
	p.Address = of.Address
	return p
}

// overseasBuyer draws a buyer of an export and the currency it pays in.
func overseasBuyer(d *dice) (Person, string) {
	dest := destinations[d.weighted(destinationWeights)]
	return Person{Name: pick(d, dest.first) + " " + pick(d, dest.last), Country: dest.country}, dest.currency
}
