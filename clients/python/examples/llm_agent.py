"""An outside agent: any OpenAI-compatible chat model plays an MLGym task through the Gym API (docs/gym.md)."""
import json, os, re, sys, urllib.request

import gymnasium as gym
import durable_mlgym

FENCED = re.compile(r"^```[^\n]*\n(.*?)\n```", re.S | re.M)


def chat(messages: list[dict]) -> str:
    body = json.dumps({"model": os.environ.get("MODEL", "gpt-4o"), "messages": messages}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', '')}"}
    url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1") + "/chat/completions"
    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as response:
        return json.load(response)["choices"][0]["message"]["content"]


def main(task: str = "prisonersDilemma") -> None:
    env = gym.make(durable_mlgym.register_task(task), max_steps=20)  # a task of MLGYM_TASKS_PATH too
    obs, info = env.reset(seed=0)
    messages = [{"role": "system", "content": info["task"]["system_prompt"]}, {"role": "user", "content": obs}]
    done = False
    while not done:
        reply = chat(messages)
        messages.append({"role": "assistant", "content": reply})
        commands = FENCED.findall(reply)
        if len(commands) != 1:  # the format the system prompt asks for: one fenced command
            messages.append({"role": "user", "content": "Reply with exactly one command in a fenced block."})
            continue
        obs, reward, terminated, truncated, info = env.step(commands[0])
        messages.append({"role": "user", "content": obs})
        done = terminated or truncated
    print(info["final"]["exit_status"], info["final_score"])
    env.close()


if __name__ == "__main__":
    main(*sys.argv[1:2])
