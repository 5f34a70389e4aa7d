// The word lists synthetic customers are drawn from: surnames with their frequencies, given-
// name characters, roads, e-mail words, interests, preferences, products and payment methods.
// Every entry passes the "text" validator and contains none of the address markers
// (市 区 县 旗 州 盟) the address mask looks for, so generated addresses mask cleanly.
//
// Thread safety: immutable tables; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace custos::gen {

struct WeightedSurname {
  std::string_view surname;
  uint32_t weight;  // relative frequency (about per 10,000 people)
};

struct Product {
  std::string_view name;
  int64_t min_fen;  // price range in 分 (0.01 CNY)
  int64_t max_fen;
};

std::span<const WeightedSurname> Surnames();
uint32_t TotalSurnameWeight();
std::span<const std::string_view> MaleNameChars();
std::span<const std::string_view> FemaleNameChars();
std::span<const std::string_view> Roads();
std::span<const std::string_view> EmailWords();
std::span<const std::string_view> EmailDomains();
std::span<const std::string_view> Interests();
std::span<const std::string_view> Preferences();
std::span<const std::string_view> MobilePrefixes();
std::span<const Product> Products();
std::span<const std::string_view> PaymentMethods();

}  // namespace custos::gen
