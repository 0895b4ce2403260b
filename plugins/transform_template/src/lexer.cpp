#include "lexer.h"

namespace crossover::tmpl {

const char* token_name(Tok type) noexcept {
    switch (type) {
        case Tok::Text: return "text";
        case Tok::Open: return "{{";
        case Tok::Close: return "}}";
        case Tok::Field: return "field";
        case Tok::Dot: return "'.'";
        case Tok::Variable: return "variable";
        case Tok::Identifier: return "identifier";
        case Tok::String: return "string";
        case Tok::Number: return "number";
        case Tok::LeftParen: return "'('";
        case Tok::RightParen: return "')'";
        case Tok::Pipe: return "'|'";
        case Tok::Declare: return "':='";
        case Tok::Assign: return "'='";
        case Tok::Comma: return "','";
        case Tok::End: return "end of input";
    }
    return "token";
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

class Lexer {
public:
    explicit Lexer(std::string_view text) : text_(text) {}

    std::vector<Token> run() {
        while (pos_ < text_.size()) {
            lex_text();
            if (pos_ < text_.size()) {
                lex_action();
            }
        }
        Token end;
        end.type = Tok::End;
        end.pos = here();
        tokens_.push_back(end);
        return std::move(tokens_);
    }

private:
    [[nodiscard]] Pos here() const { return Pos{line_, col_}; }

    void advance(std::size_t n = 1) {
        for (std::size_t i = 0; i < n && pos_ < text_.size(); ++i) {
            if (text_[pos_] == '\n') {
                ++line_;
                col_ = 1;
            } else {
                ++col_;
            }
            ++pos_;
        }
    }

    [[nodiscard]] bool at(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
    [[nodiscard]] char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }

    void push(Tok type, std::string value, Pos pos, bool space) {
        Token t;
        t.type = type;
        t.value = std::move(value);
        t.pos = pos;
        t.space_before = space;
        tokens_.push_back(std::move(t));
    }

    // Text up to the next "{{"; applies a pending right trim and a left trim
    // requested by the next action.
    void lex_text() {
        const Pos start = here();
        const std::size_t begin = pos_;
        std::size_t open = text_.find("{{", pos_);
        if (open == std::string_view::npos) {
            open = text_.size();
        }
        std::string_view body = text_.substr(begin, open - begin);
        advance(open - begin);
        if (trim_next_) {
            std::size_t k = 0;
            while (k < body.size() && is_space(body[k])) {
                ++k;
            }
            body.remove_prefix(k);
            trim_next_ = false;
        }
        const bool left_trim =
            open + 3 < text_.size() && text_.substr(open, 3) == "{{-" && is_space(text_[open + 3]);
        if (left_trim) {
            while (!body.empty() && is_space(body.back())) {
                body.remove_suffix(1);
            }
        }
        if (!body.empty()) {
            push(Tok::Text, std::string(body), start, false);
        }
    }

    // Skips whitespace inside an action; returns true when some was skipped.
    bool skip_space() {
        bool any = false;
        while (pos_ < text_.size() && is_space(text_[pos_])) {
            advance();
            any = true;
        }
        return any;
    }

    void lex_action() {
        const Pos open_pos = here();
        advance(2);  // {{
        if (peek() == '-' && is_space(peek(1))) {
            advance(1);
        }
        if (lex_comment(open_pos)) {
            return;
        }
        push(Tok::Open, "{{", open_pos, false);
        int parens = 0;
        for (;;) {
            const bool space = skip_space();
            if (pos_ >= text_.size()) {
                throw TemplateError(open_pos, "unclosed action");
            }
            const Pos p = here();
            if (space && at("-}}")) {
                advance(3);
                trim_next_ = true;
                close_action(p, parens);
                return;
            }
            if (at("}}")) {
                advance(2);
                close_action(p, parens);
                return;
            }
            lex_token(p, space, parens);
        }
    }

    // A comment, {{/* ... */}} (optionally with trim markers), right after the
    // action's opening: consumes it and returns true; otherwise consumes
    // nothing.
    bool lex_comment(Pos open_pos) {
        const std::size_t save = pos_;
        const int save_line = line_;
        const int save_col = col_;
        skip_space();
        if (!at("/*")) {
            pos_ = save;
            line_ = save_line;
            col_ = save_col;
            return false;
        }
        const std::size_t close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) {
            throw TemplateError(open_pos, "unclosed comment");
        }
        advance(close + 2 - pos_);
        const bool space = skip_space();
        if (space && at("-}}")) {
            advance(3);
            trim_next_ = true;
        } else if (at("}}")) {
            advance(2);
        } else {
            throw TemplateError(here(), "comment ends before closing delimiter");
        }
        return true;
    }

    // One token of an action, starting at `p`; `space`: whitespace before it.
    void lex_token(Pos p, bool space, int& parens) {
        const char c = peek();
        if (c == '(') {
            ++parens;
            advance();
            push(Tok::LeftParen, "(", p, space);
        } else if (c == ')') {
            --parens;
            if (parens < 0) {
                throw TemplateError(p, "unexpected right paren");
            }
            advance();
            push(Tok::RightParen, ")", p, space);
        } else if (c == '|') {
            advance();
            push(Tok::Pipe, "|", p, space);
        } else if (c == ',') {
            advance();
            push(Tok::Comma, ",", p, space);
        } else if (c == ':' && peek(1) == '=') {
            advance(2);
            push(Tok::Declare, ":=", p, space);
        } else if (c == '=') {
            advance();
            push(Tok::Assign, "=", p, space);
        } else if (c == '"') {
            push(Tok::String, lex_quoted(p), p, space);
        } else if (c == '`') {
            push(Tok::String, lex_raw_quoted(p), p, space);
        } else if (c == '\'') {
            throw TemplateError(p, "character constants are not supported; use a string");
        } else if (c == '$') {
            advance();
            push(Tok::Variable, "$" + lex_word(), p, space);
        } else if (c == '.' && !is_digit(peek(1))) {
            advance();
            if (is_alpha(peek())) {
                push(Tok::Field, lex_word(), p, space);
            } else {
                push(Tok::Dot, ".", p, space);
            }
        } else if (is_digit(c) || c == '.' ||
                   ((c == '-' || c == '+') && (is_digit(peek(1)) || peek(1) == '.'))) {
            push(Tok::Number, lex_number(), p, space);
        } else if (is_alpha(c)) {
            push(Tok::Identifier, lex_word(), p, space);
        } else {
            std::string shown(1, c);
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
                shown = "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 0xf]) +
                        std::string(1, "0123456789abcdef"[c & 0xf]);
            }
            throw TemplateError(p, "unexpected '" + shown + "' in action");
        }
    }

    // Letters, digits and underscores from here on.
    std::string lex_word() {
        std::string name;
        while (pos_ < text_.size() && is_alnum(peek())) {
            name += peek();
            advance();
        }
        return name;
    }

    // A number as Go's lexer takes it: digits, letters and dots, and a sign
    // after the exponent of a decimal number.
    std::string lex_number() {
        std::string num;
        num += peek();
        advance();
        while (pos_ < text_.size() &&
               (is_alnum(peek()) || peek() == '.' ||
                ((peek() == '+' || peek() == '-') && (num.back() == 'e' || num.back() == 'E') &&
                 num.find_first_of("xX") == std::string::npos))) {
            num += peek();
            advance();
        }
        return num;
    }

    // `raw string`: no escapes, may span lines.
    std::string lex_raw_quoted(Pos start) {
        advance();  // opening backquote
        const std::size_t close = text_.find('`', pos_);
        if (close == std::string_view::npos) {
            throw TemplateError(start, "unterminated raw quoted string");
        }
        std::string value(text_.substr(pos_, close - pos_));
        advance(close + 1 - pos_);
        return value;
    }

    void close_action(Pos p, int parens) {
        if (parens > 0) {
            throw TemplateError(p, "unclosed left paren");
        }
        push(Tok::Close, "}}", p, false);
    }

    std::string lex_quoted(Pos start) {
        advance();  // opening quote
        std::string out;
        for (;;) {
            if (pos_ >= text_.size() || peek() == '\n') {
                throw TemplateError(start, "unterminated quoted string");
            }
            const char c = peek();
            if (c == '"') {
                advance();
                return out;
            }
            if (c != '\\') {
                out += c;
                advance();
                continue;
            }
            const Pos esc = here();
            advance();
            const char e = peek();
            advance();
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'v': out += '\v'; break;
                case '\\': out += '\\'; break;
                case '"': out += '"'; break;
                case '\'': out += '\''; break;
                case 'x': {
                    int v = 0;
                    for (int k = 0; k < 2; ++k) {
                        const char h = peek();
                        int d = 0;
                        if (h >= '0' && h <= '9') {
                            d = h - '0';
                        } else if (h >= 'a' && h <= 'f') {
                            d = h - 'a' + 10;
                        } else if (h >= 'A' && h <= 'F') {
                            d = h - 'A' + 10;
                        } else {
                            throw TemplateError(esc, "invalid \\x escape in string");
                        }
                        v = v * 16 + d;
                        advance();
                    }
                    out += static_cast<char>(v);
                    break;
                }
                case 'u': {
                    unsigned cp = 0;
                    for (int k = 0; k < 4; ++k) {
                        const char h = peek();
                        unsigned d = 0;
                        if (h >= '0' && h <= '9') {
                            d = static_cast<unsigned>(h - '0');
                        } else if (h >= 'a' && h <= 'f') {
                            d = static_cast<unsigned>(h - 'a' + 10);
                        } else if (h >= 'A' && h <= 'F') {
                            d = static_cast<unsigned>(h - 'A' + 10);
                        } else {
                            throw TemplateError(esc, "invalid \\u escape in string");
                        }
                        cp = cp * 16 + d;
                        advance();
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: throw TemplateError(esc, std::string("unknown escape sequence \\") + e);
            }
        }
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int line_ = 1;
    int col_ = 1;
    bool trim_next_ = false;
    std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex(std::string_view text) {
    return Lexer(text).run();
}

}  // namespace crossover::tmpl
