#include "statement/test_util.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "encoding/json.h"
#include "gtest/gtest.h"

namespace refsum::statement {
namespace {

using encoding::JsonValue;

absl::StatusOr<JsonValue> Edit(const JsonValue& value,
                               const std::vector<absl::string_view>& path,
                               size_t step,
                               const std::optional<JsonValue>& replacement) {
  const absl::string_view segment = path[step];
  const bool last = step + 1 == path.size();
  if (const JsonValue::Array* array = value.AsArray()) {
    size_t index = 0;
    if (!absl::SimpleAtoi(segment, &index) || index >= array->size()) {
      return absl::InvalidArgumentError(absl::StrCat("no element ", segment));
    }
    JsonValue::Array elements = *array;
    if (!last) {
      ASSIGN_OR_RETURN(elements[index],
                       Edit(elements[index], path, step + 1, replacement));
    } else if (replacement.has_value()) {
      elements[index] = *replacement;
    } else {
      elements.erase(elements.begin() + index);
    }
    return JsonValue::MakeArray(std::move(elements));
  }
  const JsonValue::Object* object = value.AsObject();
  if (object == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("no member ", segment));
  }
  JsonValue::Object members = *object;
  for (auto it = members.begin(); it != members.end(); ++it) {
    if (it->first != segment) continue;
    if (!last) {
      ASSIGN_OR_RETURN(it->second,
                       Edit(it->second, path, step + 1, replacement));
    } else if (replacement.has_value()) {
      it->second = *replacement;
    } else {
      members.erase(it);
    }
    return JsonValue::MakeObject(std::move(members));
  }
  if (!last || !replacement.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("no member ", segment));
  }
  members.emplace_back(std::string(segment), *replacement);
  return JsonValue::MakeObject(std::move(members));
}

}  // namespace

absl::StatusOr<std::string> EditJson(
    absl::string_view document, absl::string_view path,
    std::optional<absl::string_view> replacement) {
  ASSIGN_OR_RETURN(const JsonValue root, encoding::ParseJson(document));
  std::optional<JsonValue> replacement_value;
  if (replacement.has_value()) {
    ASSIGN_OR_RETURN(replacement_value, encoding::ParseJson(*replacement));
  }
  const std::vector<absl::string_view> steps = absl::StrSplit(path, '.');
  ASSIGN_OR_RETURN(const JsonValue edited,
                   Edit(root, steps, 0, replacement_value));
  return encoding::SerializeJson(edited);
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", text, "\"");
}

void PrintTo(const Mutation& mutation, std::ostream* os) {
  *os << mutation.path << " := " << mutation.replacement.value_or("<removed>");
}

void ExpectRejectedAtPath(
    absl::string_view document, const Mutation& mutation,
    absl::FunctionRef<absl::Status(absl::string_view)> parse) {
  absl::StatusOr<std::string> payload =
      EditJson(document, mutation.path, mutation.replacement);
  ASSERT_TRUE(payload.ok()) << payload.status();
  const absl::Status status = parse(*payload);
  ASSERT_FALSE(status.ok()) << "accepted " << *payload;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), mutation.error_path + ": "))
      << status;
}

}  // namespace refsum::statement
