// The web chat page served at `/`: one self-contained HTML file (web/chat.html, no CDN, no
// build step) compiled into the binary as a string.
#pragma once

#include <string_view>

namespace r1::server {

std::string_view chat_page();

}  // namespace r1::server
