// Splits template text into tokens: text between actions, and the words of
// each action. Handles `{{- ` / ` -}}` trimming and `{{/* */}}` comments, so
// the parser never sees either.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace crossover::tmpl {

enum class Tok {
    Text,        // literal text (value: after trimming)
    Open,        // {{
    Close,       // }}
    Field,       // .name (value: name)
    Dot,         // .
    Variable,    // $name or $ (value: "$name" / "$")
    Identifier,  // function names and keywords (if, range, ...)
    String,      // "..." or `...` (value: unescaped)
    Number,      // 12, -3, 1.5, 0x1f (value: as written)
    LeftParen,
    RightParen,
    Pipe,     // |
    Declare,  // :=
    Assign,   // =
    Comma,
    End,  // end of input
};

struct Token {
    Tok type = Tok::End;
    std::string value;
    Pos pos;
    bool space_before = false;  // whitespace between this token and the previous one
};

const char* token_name(Tok type) noexcept;

// Throws TemplateError for unterminated actions, strings, comments and
// characters that cannot start a token.
std::vector<Token> lex(std::string_view text);

}  // namespace crossover::tmpl
