#include "evaluator.h"

#include <utility>
#include <vector>

#include "functions.h"

namespace crossover::tmpl {
namespace {

std::string describe(const Operand& op) {
    std::string base;
    switch (op.kind) {
        case Operand::Kind::Dot: base = "."; break;
        case Operand::Kind::Field: base = ""; break;
        case Operand::Kind::Variable:
        case Operand::Kind::Function: base = op.name; break;
        case Operand::Kind::Literal:
            base = op.value.type() == Value::Type::String ? go_quote(op.value.as_string())
                                                          : display(op.value);
            break;
        case Operand::Kind::Nil: base = "nil"; break;
        case Operand::Kind::Pipeline: base = "(...)"; break;
    }
    for (const auto& f : op.chain) {
        base += "." + f;
    }
    return base;
}

enum class Flow { Normal, Break, Continue };

class Exec {
public:
    Exec(const Template& tmpl, const ExecLimits& limits) : tmpl_(tmpl), limits_(limits) {}

    std::string run(const Value& data) {
        std::string out;
        out_ = &out;
        vars_.emplace_back("$", data);
        walk(tmpl_.root, data);
        return out;
    }

private:
    void step(Pos pos) {
        if (++steps_ > limits_.max_steps) {
            throw TemplateError(pos, "template execution exceeded the limit of " +
                                         std::to_string(limits_.max_steps) +
                                         " steps (runaway loop?)");
        }
    }

    void emit(std::string_view text, Pos pos) {
        if (out_->size() + text.size() > limits_.max_output) {
            throw TemplateError(pos, "output exceeds the limit of " +
                                         std::to_string(limits_.max_output) + " bytes");
        }
        out_->append(text);
    }

    Value* find_var(const std::string& name) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
            if (it->first == name) {
                return &it->second;
            }
        }
        return nullptr;
    }

    void bind(const Pipeline& pipe, std::size_t index, const Value& v) {
        const std::string& name = pipe.decls[index];
        if (pipe.assign) {
            Value* slot = find_var(name);
            if (slot == nullptr) {
                throw TemplateError(pipe.decl_pos[index], "undefined variable \"" + name + "\"");
            }
            *slot = v;
        } else {
            vars_.emplace_back(name, v);
        }
    }

    Flow walk(const NodeList& list, const Value& dot) {
        for (const auto& node : list) {
            const Flow flow = walk_node(*node, dot);
            if (flow != Flow::Normal) {
                return flow;
            }
        }
        return Flow::Normal;
    }

    Flow walk_node(const Node& node, const Value& dot) {
        switch (node.kind) {
            case Node::Kind::Text: emit(node.text, node.pos); return Flow::Normal;
            case Node::Kind::Action: {
                step(node.pos);
                const Value v = eval_pipeline(*node.pipe, dot, true);
                if (node.pipe->decls.empty()) {
                    v.require_present();
                    emit(display(v), node.pos);
                }
                return Flow::Normal;
            }
            case Node::Kind::If:
            case Node::Kind::With: {
                step(node.pos);
                const std::size_t mark = vars_.size();
                const Value v = eval_pipeline(*node.pipe, dot, true);
                Flow flow = Flow::Normal;
                if (truthy(v)) {
                    flow = walk(node.body, node.kind == Node::Kind::With ? v : dot);
                } else {
                    flow = walk(node.else_body, dot);
                }
                vars_.resize(mark);
                return flow;
            }
            case Node::Kind::Range: return walk_range(node, dot);
            case Node::Kind::Template: {
                step(node.pos);
                const Value arg = node.pipe ? eval_pipeline(*node.pipe, dot, false) : Value();
                call_template(node.text, node.pos, arg);
                return Flow::Normal;
            }
            case Node::Kind::Break: return Flow::Break;
            case Node::Kind::Continue: return Flow::Continue;
        }
        return Flow::Normal;
    }

    void call_template(const std::string& name, Pos pos, const Value& arg) {
        const auto it = tmpl_.defines.find(name);
        if (it == tmpl_.defines.end()) {
            throw TemplateError(pos, "no such template \"" + name + "\"");
        }
        if (depth_ >= limits_.max_call_depth) {
            throw TemplateError(pos, "template calls nested deeper than " +
                                         std::to_string(limits_.max_call_depth) +
                                         " levels (runaway recursion?)");
        }
        ++depth_;
        std::vector<std::pair<std::string, Value>> saved;
        saved.swap(vars_);
        vars_.emplace_back("$", arg);
        walk(it->second, arg);
        vars_.swap(saved);
        --depth_;
    }

    Flow walk_range(const Node& node, const Value& dot) {
        step(node.pos);
        const Pipeline& pipe = *node.pipe;
        const std::size_t mark = vars_.size();
        const Value v = eval_pipeline(pipe, dot, false);
        v.require_present();
        std::size_t count = 0;
        const auto iterate = [&](const Value& key, const Value& elem) {
            step(node.pos);
            ++count;
            vars_.resize(mark);
            if (pipe.decls.size() == 1) {
                bind(pipe, 0, elem);
            } else if (pipe.decls.size() == 2) {
                bind(pipe, 0, key);
                bind(pipe, 1, elem);
            }
            return walk(node.body, elem);
        };
        switch (v.type()) {
            case Value::Type::Seq: {
                const List& items = v.as_list();
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (iterate(Value::integer(static_cast<std::int64_t>(i)), items[i]) ==
                        Flow::Break) {
                        break;
                    }
                }
                break;
            }
            case Value::Type::Dict:
                for (const auto& [k, item] : v.as_map()) {
                    if (iterate(Value::string(k), item) == Flow::Break) {
                        break;
                    }
                }
                break;
            case Value::Type::Int: {
                if (pipe.decls.size() == 2) {
                    throw TemplateError(pipe.decl_pos[1],
                                        "can't use two variables to range over an integer");
                }
                for (std::int64_t i = 0; i < v.as_int(); ++i) {
                    if (iterate(Value::integer(i), Value::integer(i)) == Flow::Break) {
                        break;
                    }
                }
                break;
            }
            case Value::Type::Null: break;
            default:
                throw TemplateError(pipe.pos, std::string("range can't iterate over a ") +
                                                  type_name(v) + " (" + display(v) + ")");
        }
        vars_.resize(mark);
        if (count == 0) {
            const Flow flow = walk(node.else_body, dot);
            vars_.resize(mark);
            return flow;
        }
        return Flow::Normal;
    }

    Value eval_pipeline(const Pipeline& pipe, const Value& dot, bool declare) {
        Value v;
        bool have = false;
        for (const auto& cmd : pipe.commands) {
            v = eval_command(cmd, dot, have ? &v : nullptr);
            have = true;
        }
        if (declare) {
            for (std::size_t i = 0; i < pipe.decls.size(); ++i) {
                bind(pipe, i, v);
            }
        }
        return v;
    }

    Value eval_command(const Command& cmd, const Value& dot, const Value* final) {
        const Operand& first = cmd.operands.front();
        if (first.kind == Operand::Kind::Function) {
            return call(first, cmd.operands, dot, final);
        }
        if (cmd.operands.size() > 1 || final != nullptr) {
            throw TemplateError(first.pos,
                                "can't give argument to non-function " + describe(first));
        }
        if (first.kind == Operand::Kind::Nil) {
            throw TemplateError(first.pos, "nil is not a command");
        }
        return eval_operand(first, dot);
    }

    Value eval_operand(const Operand& op, const Value& dot) {
        Value v;
        switch (op.kind) {
            case Operand::Kind::Dot:
            case Operand::Kind::Field: v = dot; break;
            case Operand::Kind::Variable: {
                const Value* found = find_var(op.name);
                if (found == nullptr) {
                    throw TemplateError(op.pos, "undefined variable \"" + op.name + "\"");
                }
                v = *found;
                break;
            }
            case Operand::Kind::Literal: v = op.value; break;
            case Operand::Kind::Nil: v = Value(); break;
            case Operand::Kind::Pipeline: {
                // Variables declared inside parentheses stay in the enclosing scope.
                v = eval_pipeline(*op.pipe, dot, true);
                break;
            }
            case Operand::Kind::Function: return call_named(op, nullptr, 0, dot, nullptr);
        }
        for (std::size_t i = 0; i < op.chain.size(); ++i) {
            v = field(v, op.chain[i], op.chain_pos[i]);
        }
        return v;
    }

    static Value field(const Value& v, const std::string& name, Pos pos) {
        switch (v.type()) {
            case Value::Type::Missing: return v;
            case Value::Type::Dict: {
                const Map& m = v.as_map();
                const auto it = m.find(name);
                if (it == m.end()) {
                    return Value::missing(pos, "map has no key \"" + name + "\"");
                }
                return it->second;
            }
            case Value::Type::Null:
                return Value::missing(pos, "can't read key \"" + name + "\" of a null value");
            default:
                throw TemplateError(pos,
                                    "can't evaluate field " + name + " in type " + type_name(v));
        }
    }

    Value call(const Operand& fn, const std::vector<Operand>& operands, const Value& dot,
               const Value* final) {
        return call_named(fn, operands.data() + 1, operands.size() - 1, dot, final);
    }

    Value call_named(const Operand& fn, const Operand* args, std::size_t nargs, const Value& dot,
                     const Value* final) {
        step(fn.pos);
        const std::string& name = fn.name;
        const std::size_t total = nargs + (final != nullptr ? 1 : 0);
        if (name == "and" || name == "or") {
            if (total < 1) {
                throw TemplateError(fn.pos,
                                    "wrong number of args for " + name + ": want at least 1 got 0");
            }
            const bool is_and = name == "and";
            Value v;
            for (std::size_t i = 0; i < total; ++i) {
                v = i < nargs ? eval_operand(args[i], dot) : *final;
                if (truthy(v) != is_and) {
                    return v;
                }
            }
            return v;
        }
        std::vector<Value> values;
        values.reserve(total);
        for (std::size_t i = 0; i < nargs; ++i) {
            values.push_back(eval_operand(args[i], dot));
        }
        if (final != nullptr) {
            values.push_back(*final);
        }
        if (name == "include") {
            if (values.size() != 2) {
                throw TemplateError(fn.pos, "wrong number of args for include: want 2 got " +
                                                std::to_string(values.size()));
            }
            values[0].require_present();
            if (values[0].type() != Value::Type::String) {
                throw TemplateError(fn.pos, std::string("include: template name must be a string, "
                                                        "got ") +
                                                type_name(values[0]));
            }
            std::string buffer;
            std::string* saved = out_;
            out_ = &buffer;
            try {
                call_template(values[0].as_string(), fn.pos, values[1]);
            } catch (...) {
                out_ = saved;
                throw;
            }
            out_ = saved;
            return Value::string(std::move(buffer));
        }
        const FunctionInfo* info = find_function(name);
        if (info == nullptr) {
            throw TemplateError(fn.pos, "function \"" + name + "\" not defined");
        }
        const auto count = static_cast<int>(values.size());
        if (count < info->min_args || (info->max_args >= 0 && count > info->max_args)) {
            std::string want;
            if (info->max_args < 0) {
                want = "at least " + std::to_string(info->min_args);
            } else if (info->min_args == info->max_args) {
                want = std::to_string(info->min_args);
            } else {
                want = std::to_string(info->min_args) + " to " + std::to_string(info->max_args);
            }
            throw TemplateError(fn.pos, "wrong number of args for " + name + ": want " + want +
                                            " got " + std::to_string(count));
        }
        if (!info->accepts_missing) {
            for (const auto& v : values) {
                v.require_present();
            }
        }
        const CallContext ctx{fn.pos, name, limits_.max_output};
        return info->fn(ctx, values);
    }

    const Template& tmpl_;
    ExecLimits limits_;
    std::string* out_ = nullptr;
    std::size_t steps_ = 0;
    std::size_t depth_ = 0;
    std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace

std::string execute(const Template& tmpl, const Value& data, const ExecLimits& limits) {
    return Exec(tmpl, limits).run(data);
}

}  // namespace crossover::tmpl
