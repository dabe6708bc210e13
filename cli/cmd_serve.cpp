// `r1 serve -m FILE`: the OpenAI-compatible HTTP server (CLI.md "Additions"). cpp-httplib moves
// bytes; runtime/server holds the rest (request limits, scheduler, response shapes). Binds to
// 127.0.0.1 unless --host says otherwise; SIGINT/SIGTERM stop it cleanly (every thread joined).
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include <httplib.h>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "core/error.h"
#include "runtime/chat/chat.h"
#include "runtime/server/api.h"
#include "runtime/server/page.h"
#include "runtime/server/scheduler.h"

namespace r1::cli {
namespace {

using server::Api;
using server::HttpError;
using server::JobUpdate;
using server::Prepared;

struct ServeArgs {
    ModelFlags model;
    SamplingFlags sampling;
    std::string host = "127.0.0.1";
    int port = 8080;
    int parallel = 1;
    int max_queue = 64;
    std::string api_key, alias;
    std::string reasoning_format = "deepseek";
    int think_budget = -1;
    int n_predict = -1;
    size_t max_body = size_t(8) << 20;
    CLI::Option* seed = nullptr;  // given: requests without `seed` use it
};

// httplib 0.11 listens with a backlog of 5, so a burst of connections overflows the accept
// queue and clients see resets; after binding, the socket's backlog is raised (Linux lets
// listen() be called again on a listening socket).
class HttpServer : public httplib::Server {
public:
    void raise_backlog() { ::listen(svr_sock_.load(), SOMAXCONN); }
};

void send_error(httplib::Response& res, int status, const std::string& type, const std::string& message) {
    res.status = status;
    res.set_content(Api::error_body(status, type, message), "application/json");
}

// A streamed answer: SSE events as the scheduler produces text; a failed write (the client is
// gone) cancels the job, which frees its slot at the scheduler's next step.
void stream_job(const Api& api, const Prepared& p, std::shared_ptr<server::Job> job, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&api, p, job](size_t, httplib::DataSink& sink) {
            std::string out = api.chunk(p, {}, {}, true);
            for (;;) {
                JobUpdate u = job->next(std::chrono::milliseconds(500));
                out += api.chunk(p, u.reasoning, u.content, false);
                if (u.finish == server::Finish::Error)
                    out += "data: " + Api::error_body(500, "server_error", u.error) + "\n\n";
                else if (u.finish != server::Finish::None)
                    out += api.final_chunks(p, u.finish, u.usage);
                if (!out.empty() && !sink.write(out.data(), out.size())) {
                    job->cancel();
                    return false;
                }
                out.clear();
                if (u.finish != server::Finish::None) {
                    sink.done();
                    return true;
                }
            }
        },
        [job](bool) { job->cancel(); });
}

void handle_generation(const Api& api, server::Scheduler& sched, server::Endpoint ep, const httplib::Request& req,
                       httplib::Response& res) {
    Prepared p;
    try {
        p = ep == server::Endpoint::Chat ? api.prepare_chat(req.body) : api.prepare_completion(req.body);
    } catch (const HttpError& e) {
        return send_error(res, e.status, e.type, e.what());
    }
    auto job = sched.submit(p.slot);
    if (!job) {
        res.set_header("Retry-After", "1");
        return send_error(res, 503, "unavailable_error",
                          fmt::format("the server is busy: all {} slots and the queue are full; retry later",
                                      sched.stats().n_slots));
    }
    if (p.stream) return stream_job(api, p, std::move(job), res);
    std::string reasoning, content;
    for (;;) {
        JobUpdate u = job->next(std::chrono::milliseconds(1000));
        reasoning += u.reasoning;
        content += u.content;
        if (u.finish == server::Finish::Error) return send_error(res, 500, "server_error", u.error);
        if (u.finish == server::Finish::Cancelled) return send_error(res, 503, "unavailable_error", "the server is stopping");
        if (u.finish != server::Finish::None) {
            res.set_content(api.response(p, reasoning, content, u.finish, u.usage).dump(
                                -1, ' ', false, nlohmann::json::error_handler_t::replace),
                            "application/json");
            return;
        }
    }
}

void run_serve(ServeArgs& a) {
    if (a.port < 0 || a.port > 65535) fail("--port {}: must be in [0, 65535] (0: any free port)", a.port);
    if (a.reasoning_format != "deepseek" && a.reasoning_format != "none")
        fail("--reasoning-format {}: expected deepseek or none", a.reasoning_format);
    if (a.n_predict < -1) fail("-n {}: must be >= -1 (-1: until the context is full)", a.n_predict);
    if (a.think_budget < -1) fail("--think-budget {}: must be >= 0 (or -1: unlimited)", a.think_budget);
    if (a.max_body < 1024) fail("--max-body {}: must be at least 1024 bytes", a.max_body);

    // SIGINT/SIGTERM go to one thread that stops the server; block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    LoadedModel m = load_model_and_tokenizer(a.model);
    const auto& tok = m.tok();
    const auto t = chat::load_model_template(a.model.model);
    server::ApiOptions ao;
    ao.model_id = a.alias.empty() ? std::filesystem::path(a.model.model).filename().string() : a.alias;
    ao.limits.max_body_bytes = a.max_body;
    ao.split_reasoning = a.reasoning_format == "deepseek";
    ao.think_budget = a.think_budget;
    ao.n_predict = a.n_predict;
    ao.sampling = resolve_sampling(a.sampling, m.is_r1);
    ao.fixed_seed = a.seed->count() > 0;
    server::Scheduler sched(*m.model, tok,
                            {.n_slots = a.parallel, .context = context_options(a.model, *m.model), .max_queue = a.max_queue});
    Api api(tok, chat::ChatTemplate::from_source(t.source, t.bos_token, t.eos_token), sched.n_ctx(), ao);

    HttpServer svr;
    // Every waiting or streaming request holds a thread: slots + queue, and a few for the rest.
    const size_t n_threads = size_t(a.parallel + a.max_queue + 8);
    svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
    svr.set_payload_max_length(a.max_body);
    svr.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
        ++api.n_requests;
        if (a.api_key.empty() || req.path == "/" || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
        if (server::api_key_matches(req.get_header_value("Authorization"), a.api_key))
            return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, 401, "authentication_error", "missing or wrong API key (Authorization: Bearer KEY)");
        return httplib::Server::HandlerResponse::Handled;
    });
    svr.set_error_handler([&](const httplib::Request& req, httplib::Response& res) {
        ++api.n_rejected;
        if (!res.body.empty()) return;
        if (res.status == 404) send_error(res, 404, "not_found_error", "no such endpoint: " + req.method + " " + req.path);
        else if (res.status == 413) send_error(res, 413, "invalid_request_error",
                                               fmt::format("the body is larger than the limit of {} bytes", a.max_body));
        else send_error(res, res.status, "invalid_request_error", fmt::format("HTTP {}", res.status));
    });
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        send_error(res, 500, "server_error", what);
    });

    svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(server::chat_page()), "text/html; charset=utf-8");
    });
    svr.Get("/health", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"status":"ok"})", "application/json");
    });
    auto models = [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(api.models().dump(), "application/json");
    };
    svr.Get("/v1/models", models);
    svr.Get("/models", models);
    svr.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(api.metrics(sched.stats()), "text/plain; version=0.0.4");
    });
    auto chat = [&](const httplib::Request& req, httplib::Response& res) {
        handle_generation(api, sched, server::Endpoint::Chat, req, res);
    };
    auto completion = [&](const httplib::Request& req, httplib::Response& res) {
        handle_generation(api, sched, server::Endpoint::Completion, req, res);
    };
    svr.Post("/v1/chat/completions", chat);
    svr.Post("/chat/completions", chat);
    svr.Post("/v1/completions", completion);
    svr.Post("/completions", completion);

    int port = a.port;
    if (port == 0) port = svr.bind_to_any_port(a.host);
    else if (!svr.bind_to_port(a.host, port)) port = -1;
    if (port <= 0) fail("--host {} --port {}: cannot listen there (address in use or not local?)", a.host, a.port);

    svr.raise_backlog();
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        svr.stop();
        sched.stop();  // running answers end now (finish_reason "cancelled"), so listen() can join its threads
    });
    std::fprintf(stderr, "r1 serve: %s on http://%s:%d (%d slots of %d tokens; Ctrl-C stops)\n", ao.model_id.c_str(),
                 a.host.c_str(), port, a.parallel, sched.n_ctx());
    std::fflush(stderr);
    const bool ok = svr.listen_after_bind();
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper when listen ended otherwise
    stopper.join();
    if (!ok) fail("--host {} --port {}: the server stopped with an error", a.host, port);
    std::fprintf(stderr, "r1 serve: stopped\n");
}

}  // namespace

void add_serve(CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    CLI::App* sub = app.add_subcommand("serve", "OpenAI-compatible HTTP server with a web chat page");
    sub->add_option("-m,--model", a->model.model, "GGUF model file")->required();
    sub->add_option("--host", a->host, "Address to listen on")->capture_default_str();
    sub->add_option("--port", a->port, "Port (0: any free port, printed at start)")->capture_default_str();
    sub->add_option("--parallel", a->parallel, "Requests decoded together (slots, each with -c tokens)")
        ->capture_default_str();
    sub->add_option("--max-queue", a->max_queue, "Requests that may wait for a slot; more get 503")->capture_default_str();
    sub->add_option("--api-key", a->api_key, "Require 'Authorization: Bearer KEY' (not for / and /health)");
    sub->add_option("--alias", a->alias, "Model name in /v1/models (default: the file name)");
    sub->add_option("--reasoning-format", a->reasoning_format,
                    "deepseek: thinking in reasoning_content; none: everything in content")
        ->capture_default_str();
    sub->add_option("--think-budget", a->think_budget, "Default reasoning tokens before the answer (-1: unlimited)")
        ->capture_default_str();
    sub->add_option("-n,--n-predict", a->n_predict, "Most tokens per reply when a request gives no max_tokens (-1: no cap)")
        ->capture_default_str();
    sub->add_option("--max-body", a->max_body, "Largest request body in bytes")->capture_default_str();
    add_model_flags(sub, a->model);
    add_sampling_flags(sub, a->sampling);
    a->seed = sub->get_option("--seed");
    sub->callback([a] { run_serve(*a); });
}

R1_COMMAND(35, add_serve);

}  // namespace r1::cli
