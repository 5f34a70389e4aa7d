#include "gen/corpus.h"

#include <array>
#include <numeric>

namespace custos::gen {
namespace {

// The most common surnames with approximate shares from the 2020 census household register
// statistics, plus a few compound surnames so names of three or four characters occur.
constexpr auto kSurnames = std::to_array<WeightedSurname>({
    {"王", 710}, {"李", 700}, {"张", 660}, {"刘", 540}, {"陈", 460}, {"杨", 310}, {"黄", 220},
    {"赵", 220}, {"吴", 200}, {"周", 190}, {"徐", 150}, {"孙", 150}, {"马", 140}, {"朱", 130},
    {"胡", 130}, {"郭", 120}, {"何", 120}, {"林", 110}, {"高", 110}, {"罗", 100}, {"郑", 90},
    {"梁", 90},  {"谢", 80},  {"宋", 80},  {"唐", 80},  {"许", 70},  {"韩", 70},  {"冯", 70},
    {"邓", 70},  {"曹", 60},  {"彭", 60},  {"曾", 60},  {"肖", 60},  {"田", 60},  {"董", 50},
    {"袁", 50},  {"潘", 50},  {"于", 50},  {"蒋", 50},  {"蔡", 50},  {"余", 50},  {"杜", 50},
    {"叶", 40},  {"程", 40},  {"苏", 40},  {"魏", 40},  {"吕", 40},  {"丁", 40},  {"任", 40},
    {"沈", 40},  {"姚", 40},  {"卢", 40},  {"姜", 35},  {"崔", 35},  {"钟", 35},  {"谭", 35},
    {"陆", 35},  {"汪", 35},  {"范", 35},  {"金", 35},  {"石", 30},  {"廖", 30},  {"贾", 30},
    {"夏", 30},  {"韦", 30},  {"付", 30},  {"方", 30},  {"白", 30},  {"邹", 30},  {"孟", 30},
    {"熊", 25},  {"秦", 25},  {"邱", 25},  {"江", 25},  {"尹", 25},  {"薛", 25},  {"闫", 25},
    {"段", 25},  {"雷", 25},  {"侯", 20},  {"龙", 20},  {"史", 20},  {"陶", 20},  {"黎", 20},
    {"贺", 20},  {"顾", 20},  {"毛", 20},  {"郝", 20},  {"龚", 20},  {"邵", 20},  {"万", 20},
    {"钱", 20},  {"严", 20},  {"覃", 15},  {"武", 15},  {"戴", 15},  {"莫", 15},  {"孔", 15},
    {"欧阳", 3}, {"司马", 1}, {"上官", 1}, {"诸葛", 1}, {"东方", 1}, {"皇甫", 1}, {"令狐", 1},
});

constexpr auto kMaleChars = std::to_array<std::string_view>({
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华",
    "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "洋", "坤",
    "博", "成", "峰", "亮", "建", "国", "文", "志", "海", "晨", "阳", "东", "子", "轩", "睿",
    "泽", "航", "远", "天", "嘉", "豪", "然", "铭", "瑞", "昊", "诚", "毅", "晖", "松", "哲",
});

constexpr auto kFemaleChars = std::to_array<std::string_view>({
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "桂", "英", "丹", "萍", "红",
    "琳", "洁", "婷", "雪", "慧", "莹", "颖", "倩", "媛", "佳", "欣", "怡", "梦", "雨", "璐",
    "晶", "妍", "蕾", "琪", "薇", "月", "露", "瑶", "菲", "兰", "凤", "梅", "晓", "诗", "涵",
    "思", "悦", "可", "馨", "婉", "若", "彤", "宁", "文", "子", "嘉", "蓉", "雅", "清", "心",
});

constexpr auto kRoads = std::to_array<std::string_view>({
    "人民路", "解放路", "中山路", "建设路", "和平路",   "新华路",   "胜利路", "文化路",
    "青年路", "光明路", "幸福路", "友谊路", "东风路",   "育才路",   "学府路", "科技路",
    "花园路", "滨江路", "长江路", "黄河路", "迎宾大道", "世纪大道", "体育路", "工业路",
    "环城路", "健康路", "五一路", "跃进路", "团结路",   "振兴路",
});

constexpr auto kEmailWords = std::to_array<std::string_view>({
    "maple",  "river",  "cloud",   "panda",  "tiger",  "lotus",   "jade",   "bamboo",
    "harbor", "summit", "comet",   "pebble", "willow", "sparrow", "orchid", "ember",
    "breeze", "cedar",  "falcon",  "meadow", "amber",  "coral",   "delta",  "echo",
    "garnet", "island", "lantern", "nova",   "oasis",  "quartz",
});

constexpr auto kEmailDomains =
    std::to_array<std::string_view>({"example.com", "example.cn", "example.net"});

constexpr auto kInterests = std::to_array<std::string_view>({
    "旅游", "摄影", "健身", "阅读", "美食", "理财", "数码", "户外", "音乐", "电影",
    "烘焙", "园艺", "瑜伽", "跑步", "游泳", "书法", "茶艺", "宠物", "亲子", "汽车",
});

constexpr auto kPreferences = std::to_array<std::string_view>({
    "线上购物",
    "门店自提",
    "送货上门",
    "周末送货",
    "短信通知",
    "邮件通知",
    "电话回访",
    "不接收营销信息",
    "会员积分",
    "分期付款",
});

// Prefixes in use by the three carriers and China Broadnet (154 was never allocated).
constexpr auto kMobilePrefixes = std::to_array<std::string_view>({
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "170", "171", "173", "175", "176",
    "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "190", "191", "192", "193", "195", "196", "197", "198", "199",
});

constexpr auto kProducts = std::to_array<Product>({
    {"智能手机", 99900, 899900},
    {"笔记本电脑", 299900, 1599900},
    {"无线耳机", 9900, 199900},
    {"运动鞋", 19900, 129900},
    {"咖啡机", 39900, 499900},
    {"图书", 1990, 19900},
    {"护肤品套装", 9900, 299900},
    {"空气净化器", 69900, 399900},
    {"会员年卡", 19800, 59800},
    {"旅游套餐", 199900, 1999900},
    {"茶叶礼盒", 9900, 199900},
    {"儿童玩具", 2990, 59900},
});

constexpr auto kPaymentMethods =
    std::to_array<std::string_view>({"alipay", "wechat_pay", "bank_card", "credit_card", "cash"});

}  // namespace

std::span<const WeightedSurname> Surnames() { return kSurnames; }

uint32_t TotalSurnameWeight() {
  static const uint32_t total =
      std::accumulate(kSurnames.begin(), kSurnames.end(), uint32_t{0},
                      [](uint32_t sum, const WeightedSurname& s) { return sum + s.weight; });
  return total;
}

std::span<const std::string_view> MaleNameChars() { return kMaleChars; }
std::span<const std::string_view> FemaleNameChars() { return kFemaleChars; }
std::span<const std::string_view> Roads() { return kRoads; }
std::span<const std::string_view> EmailWords() { return kEmailWords; }
std::span<const std::string_view> EmailDomains() { return kEmailDomains; }
std::span<const std::string_view> Interests() { return kInterests; }
std::span<const std::string_view> Preferences() { return kPreferences; }
std::span<const std::string_view> MobilePrefixes() { return kMobilePrefixes; }
std::span<const Product> Products() { return kProducts; }
std::span<const std::string_view> PaymentMethods() { return kPaymentMethods; }

}  // namespace custos::gen
