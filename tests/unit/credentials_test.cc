// read_token_file: what the watcher reads before every request.
#include <catch2/catch.hpp>

#include <string>

#include "config_test_dir.h"
#include "kube/credentials.h"

using certsync::kube::read_token_file;
using certsync::test::ConfigTestDir;
using Catch::Matchers::Contains;

namespace {

const std::string kToken = "eyJhbGciOiJSUzI1NiJ9.payload.signature";

}  // namespace

TEST_CASE("A token file is read whole, trailing whitespace dropped", "[credentials]") {
  ConfigTestDir dir;
  std::string error;
  const auto token = read_token_file(dir.write("token", kToken + "\r\n \t\n"), &error);
  REQUIRE(token.has_value());
  CHECK(token->view() == kToken);
  CHECK(error.empty());
}

TEST_CASE("A token file that cannot be used says why, naming the file and never the content", "[credentials]") {
  ConfigTestDir dir;
  std::string error;

  CHECK_FALSE(read_token_file(dir.file("missing"), &error).has_value());
  CHECK_THAT(error, Contains(dir.file("missing")) && Contains("No such file or directory"));

  CHECK_FALSE(read_token_file(dir.write("blank", " \n\n"), &error).has_value());
  CHECK_THAT(error, Contains("is empty"));

  CHECK_FALSE(read_token_file(dir.mkdir("a-directory"), &error).has_value());
  CHECK_THAT(error, Contains("Is a directory"));

  // Something far larger than any JWT is refused before it is read into memory.
  CHECK_FALSE(read_token_file(dir.write("huge", kToken + std::string(70 * 1024, 'x')), &error).has_value());
  CHECK_THAT(error, Contains("larger than 65536 bytes"));
  CHECK(error.find(kToken) == std::string::npos);
}
