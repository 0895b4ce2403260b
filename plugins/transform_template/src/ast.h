// The parsed form of a template. Immutable once built, so one parsed
// template can be shared by every render.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "value.h"

namespace crossover::tmpl {

struct Pipeline;

// One operand of a command: a literal, `.`, a field chain, a variable, a
// function name, or a parenthesised pipeline, followed by an optional chain
// of field lookups (`.a.b`, `$x.a`, `(pipe).a`).
struct Operand {
    enum class Kind : std::uint8_t {
        Dot,
        Field,     // .a.b: chain holds every name
        Variable,  // $x.a: name "$x", chain holds the fields
        Function,  // name
        Literal,   // value
        Nil,
        Pipeline,  // (pipe).a
    };
    Kind kind = Kind::Dot;
    Pos pos;
    std::string name;
    Value value;
    std::vector<std::string> chain;
    std::vector<Pos> chain_pos;
    std::shared_ptr<const Pipeline> pipe;
};

struct Command {
    Pos pos;
    std::vector<Operand> operands;
};

struct Pipeline {
    Pos pos;
    std::vector<std::string> decls;  // "$x" names declared or assigned
    std::vector<Pos> decl_pos;
    bool assign = false;  // `=` rather than `:=`
    std::vector<Command> commands;
};

struct Node;
using NodeList = std::vector<std::unique_ptr<const Node>>;

struct Node {
    enum class Kind : std::uint8_t { Text, Action, If, Range, With, Template, Break, Continue };
    Kind kind = Kind::Text;
    Pos pos;
    std::string text;                      // Text: the bytes; Template: the called name
    std::shared_ptr<const Pipeline> pipe;  // null for Text/Break/Continue (Template: optional)
    NodeList body;
    NodeList else_body;
};

struct Template {
    NodeList root;
    std::map<std::string, NodeList> defines;  // {{define "name"}}
};

}  // namespace crossover::tmpl
