// The server's JSON API, as the page uses it (the cookie set by the token URL authenticates).

export class ApiError extends Error {}

export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    throw new ApiError((data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

// Streams a file to the server with its progress (fetch cannot report an upload's progress).
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/uploads?name=${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError((data && data.error) || `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError("the upload was cut off"));
    xhr.send(file);
  });
}

// Server-sent events: the queue as it is, then each change; reconnects by itself.
export function listen({ onJobs, onJob, onState }) {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => onState("live"));
  source.addEventListener("error", () => onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
  source.addEventListener("jobs", (e) => onJobs(JSON.parse(e.data)));
  source.addEventListener("job", (e) => onJob(JSON.parse(e.data)));
  return source;
}
