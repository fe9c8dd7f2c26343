// The explorer as a Jupyter widget (anywidget): the Explorer of the built pages, fed by the kernel.
//
// musicnn_nb/explore/widgets.py composes the widget's module from plot.js, explorer.js and
// this file, in that order. The widget's saved state is small (config, version, path,
// message): its data never is state. On render the page asks the kernel for the data of
// the current recording ("request"); the kernel answers with one custom message per part
// ("part": its name, meta and index, the packed bytes as a binary buffer, as web.py's Blob
// and web_past.py's Packed pack them: the recording's parts, and the back end's or the
// collection's for those kinds), one with the audio file ("audio"), and for the collection one
// with its examples' MP3s ("media": each file's name, as its data names it, and type, the
// files as the buffers; each becomes a blob URL). The audio-file box
// sends "open"; the kernel analyses the file, then raises `version` (the page asks again)
// or sets `message`. The collection explorer has no file box: its input is the store.
const { Explorer, decodeData, addStyle } = globalThis.MusicnnExplorer;
const WITHOUT_FILE = ["collection"];
const BUSY = "Analysing";  // how the kernel's message starts while it analyses a file

// One version of the recording's data, filled as the kernel's messages arrive.
function kernelSource(version) {
  const slots = {};
  const slot = (name) => {
    if (!slots[name]) {
      let resolve;
      const promise = new Promise((r) => { resolve = r; });
      slots[name] = { promise, resolve, filled: false };
    }
    return slots[name];
  };
  return {
    version,
    audio: "",
    part: (name) => slot(name).promise,
    media: (file) => slot(`media:${file}`).promise,
    receive(msg, buffers) {
      const bytes = (i) => new Uint8Array(buffers[i].buffer, buffers[i].byteOffset, buffers[i].byteLength);
      if (msg.type === "part" && typeof msg.name === "string" && !slot(msg.name).filled) {
        slot(msg.name).filled = true;
        slot(msg.name).resolve(decodeData(msg.name, msg.meta, msg.index, bytes(0)));
      } else if (msg.type === "media" && Array.isArray(msg.names) && Array.isArray(msg.mimes)) {
        msg.names.forEach((name, i) => {
          const s = slot(`media:${name}`);
          if (s.filled || i >= buffers.length) return;
          s.filled = true;
          s.resolve(URL.createObjectURL(new Blob([bytes(i)], { type: msg.mimes[i] })));
        });
      } else if (msg.type === "audio" && !this.audio) {
        this.audio = URL.createObjectURL(new Blob([bytes(0)], { type: msg.mime }));
      }
    },
  };
}

function render({ model, el }) {
  addStyle();
  const sources = {};
  const source = (v) => (sources[v] ||= kernelSource(v));
  const status = document.createElement("div");
  status.className = "mx-message";
  status.textContent = "Preparing the explorer's data in Python (the first time takes a few seconds)…";
  el.replaceChildren(status);
  let explorer = null, box = null;

  const onMessage = (msg, buffers) => { if (msg.version != null) source(msg.version).receive(msg, buffers || []); };
  const onMessageText = () => {
    const text = model.get("message");
    if (explorer) explorer.say(text); else if (text) status.textContent = text;
    if (box && !text.startsWith(BUSY)) box.value = model.get("path");  // the recording shown
  };
  // The audio-file box, under the explorer's controls: the kernel opens what it names.
  const addFileBox = () => {
    box = document.createElement("input");
    Object.assign(box, { type: "text", size: 50, value: model.get("path") });
    box.setAttribute("aria-label", "audio file");
    const analyse = document.createElement("button");
    Object.assign(analyse, { type: "button", className: "mx-toggle", textContent: "analyse file" });
    analyse.addEventListener("click", () => model.send({ type: "open", path: box.value }));
    const label = document.createElement("label");
    label.append("audio file ", box);
    const row = document.createElement("div");
    row.className = "mx-row";
    row.append(label, analyse);
    el.querySelector(".mx-controls").append(row);
  };
  // Start an explorer on a version of the data; until it has drawn, messages go to the status line.
  let starting = null;
  const begin = (version) => {
    const candidate = (starting = new Explorer(el, { ...model.get("config"), address: false }, source(version)));
    candidate.start().then(() => {
      if (starting !== candidate) return;
      explorer = el.__explorer = candidate;  // (el.__explorer: for the browser test)
      if (!WITHOUT_FILE.includes(model.get("config").kind)) addFileBox();
      explorer.say(model.get("message"));
    }, (error) => { status.textContent = `This explorer could not start (${error.message}).`; el.replaceChildren(status); });
  };
  const onVersion = async () => {
    const v = model.get("version");
    model.send({ type: "request" });
    if (!explorer) begin(v);  // the first data never came (its file failed): start on the new one
    else if (await explorer.useSource(source(v))) explorer.say(model.get("message"));
  };
  model.on("msg:custom", onMessage);
  model.on("change:message", onMessageText);
  model.on("change:version", onVersion);
  begin(model.get("version"));
  model.send({ type: "request" });

  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:message", onMessageText);
    model.off("change:version", onVersion);
  };
}

export default { render };
