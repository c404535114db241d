#pragma once
// What report.html inlines, compiled in from files (cmake/embed_assets.cmake): uPlot (fetched
// from npm by scripts/setup.sh into third_party/uplot/) and the page's own script and style
// (src/report/html/).
#include <string_view>

namespace infermem::report::assets {

extern const std::string_view uplot_js;
extern const std::string_view uplot_css;
extern const std::string_view page_js;
extern const std::string_view page_css;

}  // namespace infermem::report::assets
