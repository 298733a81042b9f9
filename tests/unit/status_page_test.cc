#include "exporter/app/status_page.h"

#include <gtest/gtest.h>

namespace pgpulse {
namespace {

TEST(StatusPageTest, EscapesMarkup) {
  EXPECT_EQ(app::HtmlEscape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace pgpulse
