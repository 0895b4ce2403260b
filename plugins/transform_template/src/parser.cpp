#include "parser.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "functions.h"
#include "lexer.h"

namespace crossover::tmpl {
namespace {

// How a list of nodes ended.
enum class Stop { Eof, End, Else };

struct ListEnd {
    Stop stop = Stop::Eof;
    Pos pos;  // position of the `end` / `else` keyword
};

bool is_keyword(const std::string& s) {
    return s == "if" || s == "else" || s == "end" || s == "range" || s == "with" || s == "define" ||
           s == "template" || s == "block" || s == "break" || s == "continue";
}

std::string describe(const Token& t) {
    switch (t.type) {
        case Tok::Text: return "text";
        case Tok::Field: return "field ." + t.value;
        case Tok::Variable: return "variable " + t.value;
        case Tok::Identifier: return "'" + t.value + "'";
        case Tok::String: return "string";
        case Tok::Number: return "number " + t.value;
        default: return token_name(t.type);
    }
}

Value parse_number(const Token& t) {
    const std::string& s = t.value;
    const bool hex = s.find_first_of("xX") != std::string::npos;
    const bool is_float = !hex && s.find_first_of(".eE") != std::string::npos;
    if (is_float) {
        const char* begin = s.data();
        if (*begin == '+') {
            ++begin;
        }
        double d = 0;
        const auto res = std::from_chars(begin, s.data() + s.size(), d);
        if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
            throw TemplateError(t.pos, "bad number syntax: " + s);
        }
        return Value::floating(d);
    }
    std::string_view v = s;
    bool negative = false;
    if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
        negative = v[0] == '-';
        v.remove_prefix(1);
    }
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        v.remove_prefix(2);
    } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
        base = 8;
        v.remove_prefix(2);
    } else if (v.size() > 1 && v[0] == '0') {
        base = 8;
        v.remove_prefix(1);
    }
    std::int64_t out = 0;
    const auto res = std::from_chars(v.data(), v.data() + v.size(), out, base);
    if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size()) {
        throw TemplateError(t.pos, "bad number syntax: " + s);
    }
    return Value::integer(negative ? -out : out);
}

class Parser {
public:
    Parser(std::vector<Token> tokens, const ParseLimits& limits)
        : tokens_(std::move(tokens)), limits_(limits) {}

    Template run() {
        vars_ = {"$"};
        ListEnd end;
        result_.root = parse_list(end, /*top=*/true);
        if (end.stop == Stop::End) {
            throw TemplateError(end.pos, "unexpected {{end}}");
        }
        if (end.stop == Stop::Else) {
            throw TemplateError(end.pos, "unexpected {{else}}");
        }
        return std::move(result_);
    }

private:
    const Token& peek(std::size_t ahead = 0) const {
        const std::size_t k = std::min(i_ + ahead, tokens_.size() - 1);
        return tokens_[k];
    }
    const Token& next() {
        const Token& t = tokens_[std::min(i_, tokens_.size() - 1)];
        if (i_ < tokens_.size() - 1) {
            ++i_;
        }
        return t;
    }
    const Token& expect(Tok type, const char* context) {
        const Token& t = peek();
        if (t.type != type) {
            throw TemplateError(t.pos, std::string("unexpected ") + describe(t) + " in " + context +
                                           ", expected " + token_name(type));
        }
        return next();
    }

    void enter(Pos pos) {
        if (++depth_ > limits_.max_nesting) {
            throw TemplateError(
                pos, "nesting deeper than " + std::to_string(limits_.max_nesting) + " levels");
        }
    }
    void leave() { --depth_; }

    // Parses nodes until EOF, {{end}} or {{else}}. After End/Else the
    // keyword has been consumed (for Else, the rest of the action has not).
    NodeList parse_list(ListEnd& end, bool top) {
        NodeList list;
        for (;;) {
            const Token& t = peek();
            if (t.type == Tok::End) {
                end.stop = Stop::Eof;
                end.pos = t.pos;
                return list;
            }
            if (t.type == Tok::Text) {
                auto node = std::make_unique<Node>();
                node->kind = Node::Kind::Text;
                node->pos = t.pos;
                node->text = t.value;
                list.push_back(std::move(node));
                next();
                continue;
            }
            expect(Tok::Open, "template");
            const Token& kw = peek();
            if (kw.type == Tok::Identifier) {
                if (kw.value == "end") {
                    next();
                    expect(Tok::Close, "{{end}}");
                    end.stop = Stop::End;
                    end.pos = kw.pos;
                    return list;
                }
                if (kw.value == "else") {
                    next();
                    end.stop = Stop::Else;
                    end.pos = kw.pos;
                    return list;
                }
                if (kw.value == "define") {
                    if (!top || depth_ != 0) {
                        throw TemplateError(kw.pos, "{{define}} is only allowed at the top level");
                    }
                    parse_define();
                    continue;
                }
            }
            list.push_back(parse_action());
        }
    }

    std::unique_ptr<const Node> parse_action() {
        const Token& kw = peek();
        if (kw.type == Tok::Identifier) {
            const std::string& k = kw.value;
            if (k == "if" || k == "with") {
                next();
                return parse_branch(k == "if" ? Node::Kind::If : Node::Kind::With, kw.pos);
            }
            if (k == "range") {
                next();
                return parse_range(kw.pos);
            }
            if (k == "template") {
                next();
                return parse_template_call(kw.pos);
            }
            if (k == "block") {
                next();
                return parse_block(kw.pos);
            }
            if (k == "break" || k == "continue") {
                next();
                if (range_depth_ == 0) {
                    throw TemplateError(kw.pos, "{{" + k + "}} outside {{range}}");
                }
                expect(Tok::Close, k == "break" ? "{{break}}" : "{{continue}}");
                auto node = std::make_unique<Node>();
                node->kind = k == "break" ? Node::Kind::Break : Node::Kind::Continue;
                node->pos = kw.pos;
                return node;
            }
        }
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::Action;
        node->pos = kw.pos;
        node->pipe = parse_pipeline("command", /*allow_decl=*/true, /*range=*/false);
        expect(Tok::Close, "command");
        return node;
    }

    // if / with, after the keyword. Handles `else if` / `else with` chains.
    std::unique_ptr<const Node> parse_branch(Node::Kind kind, Pos pos) {
        const char* what = kind == Node::Kind::If ? "{{if}}" : "{{with}}";
        enter(pos);
        const std::size_t scope = vars_.size();
        auto node = std::make_unique<Node>();
        node->kind = kind;
        node->pos = pos;
        node->pipe = parse_pipeline(what, true, false);
        expect(Tok::Close, what);
        ListEnd end;
        node->body = parse_list(end, false);
        if (end.stop == Stop::Eof) {
            throw TemplateError(pos, std::string(what) + " has no matching {{end}}");
        }
        if (end.stop == Stop::Else) {
            const Token& t = peek();
            if (t.type == Tok::Identifier && (t.value == "if" || t.value == "with")) {
                // {{else if x}} is {{else}}{{if x}}...{{end}} sharing the last {{end}}.
                const Token& kw = next();
                node->else_body.push_back(
                    parse_branch(kw.value == "if" ? Node::Kind::If : Node::Kind::With, kw.pos));
            } else {
                expect(Tok::Close, "{{else}}");
                ListEnd end2;
                node->else_body = parse_list(end2, false);
                if (end2.stop == Stop::Eof) {
                    throw TemplateError(pos, std::string(what) + " has no matching {{end}}");
                }
                if (end2.stop == Stop::Else) {
                    throw TemplateError(end2.pos, std::string("more than one {{else}} in ") + what);
                }
            }
        }
        vars_.resize(scope);
        leave();
        return node;
    }

    std::unique_ptr<const Node> parse_range(Pos pos) {
        enter(pos);
        const std::size_t scope = vars_.size();
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::Range;
        node->pos = pos;
        node->pipe = parse_pipeline("{{range}}", true, true);
        expect(Tok::Close, "{{range}}");
        ++range_depth_;
        ListEnd end;
        node->body = parse_list(end, false);
        --range_depth_;
        if (end.stop == Stop::Eof) {
            throw TemplateError(pos, "{{range}} has no matching {{end}}");
        }
        if (end.stop == Stop::Else) {
            expect(Tok::Close, "{{else}}");
            ListEnd end2;
            node->else_body = parse_list(end2, false);
            if (end2.stop == Stop::Eof) {
                throw TemplateError(pos, "{{range}} has no matching {{end}}");
            }
            if (end2.stop == Stop::Else) {
                throw TemplateError(end2.pos, "more than one {{else}} in {{range}}");
            }
        }
        vars_.resize(scope);
        leave();
        return node;
    }

    std::unique_ptr<const Node> parse_template_call(Pos pos) {
        const Token& name = expect(Tok::String, "{{template}}");
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::Template;
        node->pos = pos;
        node->text = name.value;
        if (peek().type != Tok::Close) {
            node->pipe = parse_pipeline("{{template}}", false, false);
        }
        expect(Tok::Close, "{{template}}");
        return node;
    }

    void parse_define() {
        const Token& kw = next();
        const Token& name = expect(Tok::String, "{{define}}");
        expect(Tok::Close, "{{define}}");
        if (result_.defines.count(name.value) != 0) {
            throw TemplateError(name.pos, "template \"" + name.value + "\" defined twice");
        }
        ListEnd end;
        NodeList body = parse_template_body(kw.pos, end);
        if (end.stop != Stop::End) {
            throw TemplateError(end.stop == Stop::Else ? end.pos : kw.pos,
                                end.stop == Stop::Else ? "unexpected {{else}} in {{define}}"
                                                       : "{{define}} has no matching {{end}}");
        }
        result_.defines.emplace(name.value, std::move(body));
    }

    // The body of a {{define}} or {{block}} at `pos`: a template of its own, with
    // only $ defined and outside any {{range}}.
    NodeList parse_template_body(Pos pos, ListEnd& end) {
        auto saved = std::move(vars_);
        vars_ = {"$"};
        const int saved_range = range_depth_;
        range_depth_ = 0;
        enter(pos);
        NodeList body = parse_list(end, false);
        leave();
        range_depth_ = saved_range;
        vars_ = std::move(saved);
        return body;
    }

    // {{block "name" pipeline}} body {{end}}: define and call at once.
    std::unique_ptr<const Node> parse_block(Pos pos) {
        const Token& name = expect(Tok::String, "{{block}}");
        if (result_.defines.count(name.value) != 0) {
            throw TemplateError(name.pos, "template \"" + name.value + "\" defined twice");
        }
        auto node = std::make_unique<Node>();
        node->kind = Node::Kind::Template;
        node->pos = pos;
        node->text = name.value;
        node->pipe = parse_pipeline("{{block}}", false, false);
        expect(Tok::Close, "{{block}}");
        ListEnd end;
        NodeList body = parse_template_body(pos, end);
        if (end.stop != Stop::End) {
            throw TemplateError(pos, "{{block}} has no matching {{end}}");
        }
        result_.defines.emplace(name.value, std::move(body));
        return node;
    }

    bool has_var(const std::string& name) const {
        return std::find(vars_.begin(), vars_.end(), name) != vars_.end();
    }

    std::shared_ptr<const Pipeline> parse_pipeline(const char* context, bool allow_decl,
                                                   bool range) {
        auto pipe = std::make_shared<Pipeline>();
        pipe->pos = peek().pos;
        // Declarations: $x := / $x = / $i, $v := (range only).
        if (allow_decl && peek().type == Tok::Variable) {
            const Token& v1 = peek();
            const Token& after = peek(1);
            const bool two = range && after.type == Tok::Comma && peek(2).type == Tok::Variable &&
                             (peek(3).type == Tok::Declare || peek(3).type == Tok::Assign);
            if (after.type == Tok::Declare || after.type == Tok::Assign || two) {
                if (after.type == Tok::Comma && !range) {
                    throw TemplateError(after.pos, "too many declarations in command");
                }
                std::vector<const Token*> names{&v1};
                next();
                if (two) {
                    next();  // comma
                    names.push_back(&next());
                }
                const Token& op = next();
                pipe->assign = op.type == Tok::Assign;
                for (const Token* n : names) {
                    if (n->value == "$") {
                        throw TemplateError(n->pos, "cannot assign to $");
                    }
                    if (pipe->assign && !has_var(n->value)) {
                        throw TemplateError(n->pos, "undefined variable \"" + n->value + "\"");
                    }
                    pipe->decls.push_back(n->value);
                    pipe->decl_pos.push_back(n->pos);
                }
            } else if (after.type == Tok::Comma) {
                throw TemplateError(after.pos, "too many declarations in command");
            }
        }
        for (;;) {
            pipe->commands.push_back(parse_command(context));
            if (peek().type == Tok::Pipe) {
                next();
                continue;
            }
            break;
        }
        const Token& t = peek();
        if (t.type != Tok::Close && t.type != Tok::RightParen) {
            throw TemplateError(t.pos, std::string("unexpected ") + describe(t) + " in " + context);
        }
        // Declared names become visible after the pipeline.
        if (!pipe->assign) {
            for (const auto& d : pipe->decls) {
                vars_.push_back(d);
            }
        }
        return pipe;
    }

    Command parse_command(const char* context) {
        Command cmd;
        cmd.pos = peek().pos;
        for (;;) {
            const Token& t = peek();
            if (t.type == Tok::Close || t.type == Tok::RightParen || t.type == Tok::Pipe ||
                t.type == Tok::End) {
                break;
            }
            if (!cmd.operands.empty() && !t.space_before && t.type != Tok::LeftParen) {
                throw TemplateError(t.pos, "missing space before " + describe(t));
            }
            cmd.operands.push_back(parse_operand(context));
        }
        if (cmd.operands.empty()) {
            const Token& t = peek();
            throw TemplateError(t.pos, std::string("missing value in ") + context);
        }
        return cmd;
    }

    Operand parse_operand(const char* context) {
        const Token& t = next();
        Operand op;
        op.pos = t.pos;
        switch (t.type) {
            case Tok::Dot: op.kind = Operand::Kind::Dot; break;
            case Tok::Field:
                op.kind = Operand::Kind::Field;
                op.chain.push_back(t.value);
                op.chain_pos.push_back(t.pos);
                break;
            case Tok::Variable:
                if (!has_var(t.value)) {
                    throw TemplateError(t.pos, "undefined variable \"" + t.value + "\"");
                }
                op.kind = Operand::Kind::Variable;
                op.name = t.value;
                break;
            case Tok::String:
                op.kind = Operand::Kind::Literal;
                op.value = Value::string(t.value);
                break;
            case Tok::Number:
                op.kind = Operand::Kind::Literal;
                op.value = parse_number(t);
                break;
            case Tok::LeftParen: {
                enter(t.pos);
                op.kind = Operand::Kind::Pipeline;
                op.pipe = parse_pipeline("parenthesized pipeline", true, false);
                expect(Tok::RightParen, "parenthesized pipeline");
                leave();
                break;
            }
            case Tok::Identifier:
                if (t.value == "true" || t.value == "false") {
                    op.kind = Operand::Kind::Literal;
                    op.value = Value::boolean(t.value == "true");
                } else if (t.value == "nil") {
                    op.kind = Operand::Kind::Nil;
                } else if (is_keyword(t.value)) {
                    throw TemplateError(t.pos, "unexpected '" + t.value + "' in " + context);
                } else if (!function_exists(t.value)) {
                    throw TemplateError(t.pos, "function \"" + t.value + "\" not defined");
                } else {
                    op.kind = Operand::Kind::Function;
                    op.name = t.value;
                }
                break;
            default: throw TemplateError(t.pos, "unexpected " + describe(t) + " in " + context);
        }
        // Field chain: fields attached without a space.
        while (peek().type == Tok::Field && !peek().space_before) {
            if (op.kind == Operand::Kind::Literal || op.kind == Operand::Kind::Nil ||
                op.kind == Operand::Kind::Function || op.kind == Operand::Kind::Dot) {
                throw TemplateError(peek().pos,
                                    "unexpected field ." + peek().value + " after " + describe(t));
            }
            const Token& f = next();
            op.chain.push_back(f.value);
            op.chain_pos.push_back(f.pos);
        }
        return op;
    }

    std::vector<Token> tokens_;
    ParseLimits limits_;
    std::size_t i_ = 0;
    std::size_t depth_ = 0;
    int range_depth_ = 0;
    std::vector<std::string> vars_;
    Template result_;
};

}  // namespace

Template parse(std::string_view text, const ParseLimits& limits) {
    return Parser(lex(text), limits).run();
}

}  // namespace crossover::tmpl
