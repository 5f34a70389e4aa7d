#include "corpus.h"

#include <array>

#include "core/validators.h"
#include "gen/generator.h"
#include "scan/checks.h"

namespace custos::scan::corpus {
namespace {

constexpr std::array<std::string_view, 8> kChineseFiller = {
    "客户来电咨询产品价格，已告知最新优惠活动。",
    "会议纪要：第三季度销售额增长12.5%，华东区表现最好。",
    "售后服务记录：用户反馈屏幕有划痕，已安排更换。",
    "本周计划：完成系统升级，测试新版本功能。",
    "物流提示：包裹已于下午3点从仓库发出，预计明天送达。",
    "客户满意度回访，整体评价良好，建议继续跟进。",
    "退款申请已审核通过，金额1299.00元将在3个工作日内退回。",
    "培训通知：周四上午10:00在4楼会议室举行。"};
constexpr std::array<std::string_view, 8> kEnglishFiller = {
    "The customer asked about the delivery date; amount 1,299.00 CNY.",
    "Please find attached the invoice for March, total 3,450.00.",
    "Shipment left the warehouse at 14:30 and should arrive tomorrow.",
    "Meeting moved to Thursday 10:00, room 4B, bring the Q3 numbers.",
    "Ticket closed after the replacement unit was confirmed working.",
    "Follow up next week about the renewal discount of 15%.",
    "Server maintenance window is Sunday 02:00-04:00 local time.",
    "Version 2.4.1 fixes the export bug reported by the support team."};

constexpr std::array<std::string_view, 7> kUnionPayPrefixes = {
    "622202", "622848", "621700", "623668", "622588", "621483", "622700"};
constexpr std::array<std::string_view, 3> kOtherPrefixes = {"436742", "524094", "453242"};

std::string FullWidth(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    // U+FF10 + d is EF BC 90+d.
    out += "\xEF\xBC";
    out += static_cast<char>(0x90 + (c - '0'));
  }
  return out;
}

char LuhnDigit(const std::string& body) {
  for (char d = '0'; d <= '9'; ++d) {
    if (core::LuhnValid(body + d)) return d;
  }
  return '0';
}

std::string Digits(gen::SplitMix64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng.Below(10));
  return s;
}

// A GB 32100 code from a random organisation part.
std::string UsccCode(gen::SplitMix64& rng) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  std::string c = "91" + std::string(rng.Below(2) == 0 ? "110108" : "440305");
  for (int i = 0; i < 9; ++i) c += kAlphabet[rng.Below(kAlphabet.size())];
  return c + UsccCheckChar(c);
}

}  // namespace

std::string_view Extension(DocKind kind) {
  switch (kind) {
    case DocKind::kCsv:
      return ".csv";
    case DocKind::kJsonl:
      return ".jsonl";
    default:
      return ".txt";
  }
}

std::string MobileSpelling(std::string_view d, int variant) {
  const std::string a(d.substr(0, 3)), b(d.substr(3, 4)), c(d.substr(7, 4));
  switch (variant % 8) {
    case 0:
      return std::string(d);
    case 1:
      return "+86 " + a + " " + b + " " + c;
    case 2:
      return a + "-" + b + "-" + c;
    case 3:
      return "(+86)" + std::string(d);
    case 4:
      return FullWidth(d);
    case 5:
      return "+86" + std::string(d);
    case 6:
      return "0086 " + std::string(d);
    default:
      return a + " " + b + " " + c;
  }
}

std::string BankCardNumber(gen::SplitMix64& rng, bool unionpay, bool grouped) {
  std::string body(unionpay ? kUnionPayPrefixes[rng.Below(kUnionPayPrefixes.size())]
                            : kOtherPrefixes[rng.Below(kOtherPrefixes.size())]);
  const int length = unionpay && rng.Below(2) == 0 ? 19 : 16;
  body += Digits(rng, length - 1 - static_cast<int>(body.size()));
  body += LuhnDigit(body);
  if (!grouped) return body;
  std::string g;
  for (size_t i = 0; i < body.size(); i += 4) {
    if (i > 0) g += ' ';
    g += body.substr(i, 4);
  }
  return g;
}

CorpusWriter::CorpusWriter(DocKind kind, uint64_t seed, int plain_percent)
    : kind_(kind),
      seed_(seed),
      plain_percent_(plain_percent),
      rng_(gen::SplitMix64::ForRecord(seed, 0, 77)) {}

void CorpusWriter::Append(size_t bytes, std::string& out, std::vector<Label>* labels) {
  out_base_ = out.size();
  if (record_ == 0 && kind_ == DocKind::kCsv) {
    out += "name,gender,birth_date,id_number,phone,email,address,bank_card,order_no,note\n";
  }
  while (out.size() - out_base_ < bytes) Record(out, labels);
  written_ += out.size() - out_base_;
}

void CorpusWriter::Plant(std::string& out, std::vector<Label>* labels, PiiType type,
                         std::string_view value) {
  if (labels != nullptr) {
    labels->push_back(
        {type, written_ + (out.size() - out_base_), static_cast<uint32_t>(value.size())});
  }
  out += value;
}

void CorpusWriter::NearMiss(std::string& out) {
  gen::SyntheticCustomer c;
  gen::MakeCustomer(seed_ + 1, record_, c);
  const std::string id17 = c.id_number.substr(0, 17);
  switch (rng_.Below(9)) {
    case 0: {  // wrong check character
      const char right = c.id_number[17];
      out += "核对失败的证件号 " + id17 + (right == '1' ? '2' : '1');
      break;
    }
    case 1:
      out += "订单号 " + id17;
      break;   // 17 digits
    case 2: {  // 19 digits that fail Luhn
      std::string n = id17 + Digits(rng_, 1);
      const char luhn = LuhnDigit(n);
      out += "流水号 " + n + static_cast<char>(luhn == '9' ? '0' : luhn + 1);
      break;
    }
    case 3:
      out += "order SO" + Digits(rng_, 16);
      break;
    case 4:
      out += "tracking YT" + Digits(rng_, 13) + " / 2024" + Digits(rng_, 16);
      break;
    case 5: {  // card-like, Luhn fails
      std::string n = "6222" + Digits(rng_, 11);
      const char luhn = LuhnDigit(n);
      out += "卡号有误 " + n + static_cast<char>(luhn == '9' ? '0' : luhn + 1);
      break;
    }
    case 6:
      out += "编号 12" + Digits(rng_, 9) + " 和 " + Digits(rng_, 1) + "0" + Digits(rng_, 8);
      break;
    case 7:
      out += "admin@localhost 或 support@intranet";
      break;
    default:
      out += "金额 " + c.phone + ".50 元，批次 1" + c.phone;
      break;
  }
}

void CorpusWriter::Record(std::string& out, std::vector<Label>* labels) {
  switch (kind_) {
    case DocKind::kChineseText:
      TextRecord(out, labels, true);
      break;
    case DocKind::kEnglishText:
      TextRecord(out, labels, false);
      break;
    case DocKind::kCsv:
      CsvRecord(out, labels);
      break;
    case DocKind::kJsonl:
      JsonRecord(out, labels);
      break;
  }
  ++record_;
}

void CorpusWriter::TextRecord(std::string& out, std::vector<Label>* labels, bool chinese) {
  gen::SyntheticCustomer c;
  gen::MakeCustomer(seed_, record_, c);
  const auto& filler = chinese ? kChineseFiller : kEnglishFiller;
  out += filler[rng_.Below(filler.size())];
  if (rng_.Below(100) < static_cast<uint64_t>(plain_percent_)) {
    out += ' ';
    out += filler[rng_.Below(filler.size())];
    out += '\n';
    return;
  }
  out += ' ';
  switch (rng_.Below(12)) {
    case 0: {
      out += chinese ? "身份证号：" : "ID number: ";
      std::string id = c.id_number;
      if (id.back() == 'X' && rng_.Below(2) == 0) id.back() = 'x';
      Plant(out, labels, PiiType::kIdCard, id);
      break;
    }
    case 1:
    case 2:
      out += chinese ? "联系电话 " : "call ";
      Plant(out, labels, PiiType::kMobile,
            MobileSpelling(c.phone, static_cast<int>(rng_.Below(8))));
      break;
    case 3:
      out += chinese ? "邮箱 " : "mail ";
      Plant(out, labels, PiiType::kEmail, c.email);
      out += chinese ? "，" : ", ";
      break;
    case 4:
      out += chinese ? "银行卡号 " : "card ";
      Plant(out, labels, PiiType::kBankCard,
            BankCardNumber(rng_, rng_.Below(4) != 0, rng_.Below(2) == 0));
      break;
    case 5:
      out += chinese ? "联系人：" : "contact 联系人：";
      Plant(out, labels, PiiType::kName, c.name);
      out += chinese ? "，" : ", ";
      Plant(out, labels, PiiType::kMobile, c.phone);
      break;
    case 6:
      out += chinese ? "收货地址：" : "ship to 收货地址：";
      Plant(out, labels, PiiType::kAddress, c.address);
      out += chinese ? "。" : ".";
      break;
    case 7:
      out += chinese ? "办公电话 010-" : "office (0755)";
      // The label covers the whole number including the area code.
      if (labels != nullptr) {
        const size_t area = chinese ? 4 : 6;
        labels->push_back({PiiType::kLandline, written_ + (out.size() - out_base_) - area,
                           static_cast<uint32_t>(area + 8)});
      }
      out += std::to_string(2 + rng_.Below(8)) + Digits(rng_, 7);
      break;
    case 8:
      out += chinese ? "统一社会信用代码 " : "USCC ";
      Plant(out, labels, PiiType::kUscc, UsccCode(rng_));
      break;
    case 9:
      out += chinese ? "登录IP " : "login from ";
      Plant(out, labels, PiiType::kIpv4,
            "10." + std::to_string(rng_.Below(256)) + "." + std::to_string(rng_.Below(256)) + "." +
                std::to_string(1 + rng_.Below(254)));
      break;
    default:
      NearMiss(out);
      break;
  }
  out += '\n';
}

void CorpusWriter::CsvRecord(std::string& out, std::vector<Label>* labels) {
  gen::SyntheticCustomer c;
  gen::MakeCustomer(seed_, record_, c);
  Plant(out, labels, PiiType::kName, c.name);
  out += "," + c.gender + "," + c.birth_date + ",";
  Plant(out, labels, PiiType::kIdCard, c.id_number);
  out += ',';
  Plant(out, labels, PiiType::kMobile, rng_.Below(4) == 0 ? MobileSpelling(c.phone, 2) : c.phone);
  out += ',';
  Plant(out, labels, PiiType::kEmail, c.email);
  out += ',';
  Plant(out, labels, PiiType::kAddress, c.address);
  out += ',';
  Plant(out, labels, PiiType::kBankCard, BankCardNumber(rng_, rng_.Below(4) != 0, false));
  out += ",SO" + Digits(rng_, 14) + ",";
  NearMiss(out);
  out += '\n';
}

void CorpusWriter::JsonRecord(std::string& out, std::vector<Label>* labels) {
  gen::SyntheticCustomer c;
  gen::MakeCustomer(seed_, record_, c);
  out += "{\"name\":\"";
  Plant(out, labels, PiiType::kName, c.name);
  out += "\",\"id_number\":\"";
  Plant(out, labels, PiiType::kIdCard, c.id_number);
  out += "\",\"phone\":\"";
  Plant(out, labels, PiiType::kMobile, MobileSpelling(c.phone, static_cast<int>(rng_.Below(8))));
  out += "\",\"email\":\"";
  Plant(out, labels, PiiType::kEmail, c.email);
  out += "\",\"address\":\"";
  Plant(out, labels, PiiType::kAddress, c.address);
  out += "\",\"card\":\"";
  Plant(out, labels, PiiType::kBankCard, BankCardNumber(rng_, true, rng_.Below(2) == 0));
  out += "\",\"order\":\"2024" + Digits(rng_, 13) + "\",\"remark\":\"";
  NearMiss(out);
  out += "\"}\n";
}

}  // namespace custos::scan::corpus
