// Run inside a worker by test/hostile/network.test.ts, as a prompt-injected
// agent would try to send data out. Each attempt's outcome is one JSON value;
// `batch` runs several at once and prints them as a JSON list. Node 18, no packages.
//   node probe.mjs proxy-get <url>            GET <url> through $HTTP_PROXY
//   node probe.mjs proxy-connect <host:port>  CONNECT through $HTTPS_PROXY, then GET / in the tunnel
//   node probe.mjs tcp <host> <port> [ip]     a raw TCP connect, straight out (the name mapped to ip when given)
//   node probe.mjs http <host> <port> [ip]    a plain HTTP GET, straight out (likewise)
//   node probe.mjs resolve <name>             the name through the container's resolver (Docker's embedded DNS)
//   node probe.mjs dns-udp <ip> <name>        a DNS query for <name> sent straight to a resolver at <ip>:53 (tunnelling out)
//   node probe.mjs batch '<JSON list of argument lists>'
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import dns from "node:dns";
import http from "node:http";
import net from "node:net";
import { clearTimeout, setTimeout } from "node:timers";

const proxy = new URL(process.env.HTTPS_PROXY || process.env.HTTP_PROXY || "http://no-proxy-set:1");

/** A name the attacker already knows the address of: resolved here, never by a DNS query. */
function lookupAs(ip) {
  return (host, options, callback) => {
    if (ip === undefined) return dns.lookup(host, options, callback);
    // Later, as a real lookup answers: an error must reach the request's handler, not the socket's before it has one.
    process.nextTick(() => (options.all ? callback(null, [{ address: ip, family: 4 }]) : callback(null, ip, 4)));
  };
}

function attempt([mode, target, port, ip]) {
  return new Promise((done) => {
    const failed = (error) => done({ error: error.code || error.message });
    const read = (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk) => (body += chunk));
      response.on("end", () => done({ status: response.statusCode, body }));
    };
    if (mode === "proxy-get") {
      const request = http.request({ host: proxy.hostname, port: proxy.port, method: "GET", path: target, headers: { host: new URL(target).host } }, read);
      request.on("error", failed);
      request.end();
    } else if (mode === "proxy-connect") {
      const socket = net.connect(Number(proxy.port), proxy.hostname, () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      let text = "";
      let tunnelled = false;
      socket.setEncoding("utf8").on("data", (chunk) => {
        text += chunk;
        if (!tunnelled && text.startsWith("HTTP/1.1 200") && text.includes("\r\n\r\n")) {
          tunnelled = true;
          text = "";
          socket.write(`GET / HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
        }
      });
      socket.on("end", () => done(tunnelled ? { status: 200, body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n") } : { status: Number(text.split(" ")[1]), body: text }));
      socket.on("error", failed);
    } else if (mode === "tcp") {
      const socket = net.connect({ host: target, port: Number(port), lookup: lookupAs(ip) }, () => {
        socket.destroy();
        done({ connected: true });
      });
      socket.on("error", failed);
    } else if (mode === "http") {
      http.get({ host: target, port: Number(port), path: "/", lookup: lookupAs(ip) }, read).on("error", failed);
    } else if (mode === "resolve") {
      dns.lookup(target, { all: true }, (error, addresses) => (error ? failed(error) : done({ addresses: addresses.map((a) => a.address) })));
    } else if (mode === "dns-udp") {
      const socket = dgram.createSocket("udp4");
      const end = (outcome) => {
        clearTimeout(timer);
        socket.close();
        done(outcome);
      };
      // With a route and nobody answering, the bound ends it: what matters is that nothing answered.
      const timer = setTimeout(() => end({ error: "no answer" }), 5000);
      socket.on("message", () => end({ answered: true }));
      socket.on("error", (error) => end({ error: error.code || error.message }));
      // The third argument is the name to ask for.
      socket.send(dnsQuery(port), 53, target, (error) => {
        if (error) end({ error: error.code || error.message });
      });
    } else {
      done({ error: `unknown mode ${mode}` });
    }
  });
}

/** A DNS query (type A, recursion desired) for `name`: what a tunnel sends, its payload in the labels. */
function dnsQuery(name) {
  const labels = name.split(".").flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, "ascii")]);
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

const args = process.argv.slice(2);
const outcome = args[0] === "batch" ? Promise.all(JSON.parse(args[1]).map(attempt)) : attempt(args);
outcome.then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
});
